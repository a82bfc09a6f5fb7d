import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { destinationRuleCaAnalyzer } from './destination-rule-ca.js';
import { analyzeYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [destinationRuleCaAnalyzer]);
const codes = (ds: Diagnostic[]): string[] => ds.map((d) => d.code);

const CLIENT = 'clientCertificate: /etc/certs/client.pem, privateKey: /etc/certs/client-key.pem';

/** A DestinationRule for db.prod with the given traffic policy tls (flow style), port-level tls and selector. */
function rule(tls?: string, portTls?: string, selector = false): string {
  const lines = [
    'apiVersion: networking.istio.io/v1',
    'kind: DestinationRule',
    'metadata:',
    '  name: db-tls',
    '  namespace: prod',
    'spec:',
    '  host: mydbserver.prod.svc.cluster.local',
    '  trafficPolicy:',
  ];
  if (tls) lines.push(`    tls: ${tls}`);
  if (portTls) lines.push('    portLevelSettings:', '    - port: {number: 443}', `      tls: ${portTls}`);
  if (selector) lines.push('  workloadSelector:', '    matchLabels: {app: db}');
  return lines.join('\n') + '\n';
}

test('destination rule CA: SIMPLE without caCertificates at destination level (simple-destination)', () => {
  const [d, ...rest] = run(rule('{mode: SIMPLE}'));
  assert.equal(rest.length, 0);
  assert.equal(d?.code, 'IST0128');
  assert.equal(d?.level, 'Warning');
  assert.equal(d?.message, 'DestinationRule prod/db-tls in namespace prod has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: mydbserver.prod.svc.cluster.local');
  assert.equal(d?.location?.path, 'spec.trafficPolicy.tls.mode');
  assert.equal(d?.location?.line, 9);
});

test('destination rule CA: MUTUAL without caCertificates at destination level (mutual-destination)', () => {
  assert.deepEqual(codes(run(rule(`{mode: MUTUAL, ${CLIENT}}`))), ['IST0128']);
});

test('destination rule CA: SIMPLE without caCertificates at port level (simple-port)', () => {
  const [d, ...rest] = run(rule(undefined, '{mode: SIMPLE}'));
  assert.equal(rest.length, 0);
  assert.equal(d?.code, 'IST0129');
  assert.equal(d?.level, 'Warning');
  assert.equal(d?.message, 'DestinationRule prod/db-tls in namespace prod has TLS mode set to SIMPLE but no caCertificates are set to validate server identity for host: mydbserver.prod.svc.cluster.local at port number:443');
  assert.equal(d?.location?.path, 'spec.trafficPolicy.portLevelSettings[0].tls.mode');
  assert.equal(d?.location?.line, 11);
});

test('destination rule CA: MUTUAL without caCertificates at port level (mutual-port)', () => {
  assert.deepEqual(codes(run(rule(undefined, `{mode: MUTUAL, ${CLIENT}}`))), ['IST0129']);
});

test('destination rule CA: credentialName exempts only with a workloadSelector (credentialname cases)', () => {
  assert.deepEqual(codes(run(rule('{mode: SIMPLE, credentialName: db-credential}'))), ['IST0128']);
  assert.deepEqual(codes(run(rule(undefined, '{mode: SIMPLE, credentialName: db-credential}'))), ['IST0129']);
  assert.deepEqual(run(rule('{mode: SIMPLE, credentialName: db-credential}', undefined, true)), []);
  assert.deepEqual(run(rule(undefined, '{mode: SIMPLE, credentialName: db-credential}', true)), []);
});

test('destination rule CA: both levels are reported (compound cases)', () => {
  assert.deepEqual(codes(run(rule(`{mode: MUTUAL, ${CLIENT}}`, '{mode: SIMPLE}'))), ['IST0128', 'IST0129']);
  assert.deepEqual(codes(run(rule('{mode: SIMPLE}', `{mode: MUTUAL, ${CLIENT}}`))), ['IST0128', 'IST0129']);
});

test('destination rule CA: caCertificates, ISTIO_MUTUAL and DISABLE are clean (with-ca)', () => {
  const ca = 'caCertificates: /etc/certs/root.pem';
  assert.deepEqual(run(rule(`{mode: MUTUAL, ${CLIENT}, ${ca}}`, `{mode: SIMPLE, ${ca}}`)), []);
  assert.deepEqual(run(rule('{mode: ISTIO_MUTUAL}', '{mode: DISABLE}')), []);
});

test('destination rule CA: subset traffic policies are not checked, as in Istio', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: prod}
spec:
  host: db
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {tls: {mode: SIMPLE}}
`;
  assert.deepEqual(run(yaml), []);
});
