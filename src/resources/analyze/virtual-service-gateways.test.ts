import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { virtualServiceGatewayAnalyzer } from './virtual-service-gateways.js';

const lineOf = (yaml: string, marker: string): number => yaml.split('\n').findIndex((l) => l.includes(marker)) + 1;
const summary = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name} ${d.message}`);

function gateway(name: string, namespace: string, hosts: string[]): string {
  return `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ${JSON.stringify(hosts)}
`;
}

function vs(name: string, namespace: string, hosts: string[], gateways: string[]): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: ${JSON.stringify(hosts)}
  gateways: ${JSON.stringify(gateways)}
  http:
  - route: [{ destination: { host: ratings } }]
`;
}

test('a missing gateway is IST0101 and, as in Istio, IST0132 at the gateway name (Istio: virtualServiceGateways)', () => {
  const yaml = gateway('httpbin-gateway', 'default', ['httpbin.example.com'])
    + gateway('crossnamespace-gw', 'another', ['*'])
    + vs('httpbin', 'default', ['httpbin.example.com'], ['httpbin-gateway'])
    + vs('mesh-only', 'default', ['httpbin'], ['mesh'])
    + vs('cross-test', 'default', ['httpbin.example.com'], ['another/crossnamespace-gw'])
    + vs('httpbin-bogus', 'default', ['httpbin.example.com'], ['mesh', 'httpbin-gateway-bogus']);
  const ds = analyzeYaml(yaml, [virtualServiceGatewayAnalyzer]);
  assert.deepEqual(summary(ds), [
    'IST0101 default/httpbin-bogus Referenced gateway not found: "httpbin-gateway-bogus"',
    'IST0132 default/httpbin-bogus one or more host [httpbin.example.com] defined in VirtualService default/httpbin-bogus not found in Gateway default/httpbin-gateway-bogus.',
  ]);
  assert.equal(ds[0]?.level, 'Error');
  assert.equal(ds[1]?.level, 'Warning');
  assert.equal(ds[0]?.location?.path, 'spec.gateways[1]');
  assert.equal(ds[0]?.location?.line, lineOf(yaml, '"httpbin-gateway-bogus"'));
});

test('VirtualService hosts must be served by the Gateway, wildcards included (Istio: host not found in the gateway)', () => {
  const yaml = gateway('gw-01', 'istio-system', ['testing-01.com'])
    + gateway('gw-02', 'istio-system', ['*.testing-02.com'])
    + gateway('gw-03a', 'istio-system', ['*.api.testing-03.com'])
    + gateway('gw-03b', 'istio-system', ['*.homepage.testing-03.com'])
    + vs('ok-01', 'default', ['testing-01.com'], ['istio-system/gw-01'])
    + vs('wrong-01', 'default', ['wrong-01.com'], ['istio-system/gw-01'])
    + vs('ok-02', 'default', ['web.testing-02.com'], ['istio-system/gw-02'])
    + vs('wrong-02', 'default', ['web.wrong.com'], ['istio-system/gw-02'])
    + vs('ok-03', 'default', ['user.api.testing-03.com', 'profile.homepage.testing-03.com'], ['istio-system/gw-03a', 'istio-system/gw-03b'])
    + vs('half-03', 'default', ['user.api.testing-03.com'], ['istio-system/gw-03a', 'istio-system/gw-03b']);
  const ds = analyzeYaml(yaml, [virtualServiceGatewayAnalyzer]);
  assert.deepEqual(summary(ds), [
    'IST0132 default/wrong-01 one or more host [wrong-01.com] defined in VirtualService default/wrong-01 not found in Gateway istio-system/gw-01.',
    'IST0132 default/wrong-02 one or more host [web.wrong.com] defined in VirtualService default/wrong-02 not found in Gateway istio-system/gw-02.',
    'IST0132 default/half-03 one or more host [user.api.testing-03.com] defined in VirtualService default/half-03 not found in Gateway istio-system/gw-03b.',
  ]);
  assert.equal(ds[2]?.location?.path, 'spec.gateways[1]');
});

test('namespaced Gateway hosts count only for VirtualServices in that namespace (Istio: ... with ns)', () => {
  const yaml = gateway('dot', 'istio-system', ['./testing-01.com'])
    + gateway('any', 'istio-system', ['*/testing-01.com'])
    + gateway('all', 'istio-system', ['*/*'])
    + gateway('named', 'istio-system', ['prod/testing-01.com'])
    + vs('dot', 'istio-system', ['testing-01.com'], ['istio-system/dot'])
    + vs('dot', 'default', ['testing-01.com'], ['istio-system/dot'])
    + vs('any', 'default', ['testing-01.com'], ['istio-system/any'])
    + vs('all', 'default', ['testing-01.com'], ['istio-system/all'])
    + vs('named', 'prod', ['testing-01.com'], ['istio-system/named'])
    + vs('named', 'default', ['testing-01.com'], ['istio-system/named']);
  assert.deepEqual(summary(analyzeYaml(yaml, [virtualServiceGatewayAnalyzer])), [
    'IST0132 default/dot one or more host [testing-01.com] defined in VirtualService default/dot not found in Gateway istio-system/dot.',
    'IST0132 default/named one or more host [testing-01.com] defined in VirtualService default/named not found in Gateway istio-system/named.',
  ]);
});

test('a gateway named only in a match must exist too', () => {
  const yaml = gateway('gw', 'default', ['*']) + `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: matches, namespace: default }
spec:
  hosts: [web.example.com]
  gateways: [gw, mesh, missing]
  http:
  - match:
    - gateways: [gw, mesh, missing, default/also-missing] # here
    route: [{ destination: { host: ratings } }]
`;
  const ds = analyzeYaml(yaml, [virtualServiceGatewayAnalyzer]);
  assert.deepEqual(summary(ds), [
    'IST0101 default/matches Referenced gateway not found: "missing"',
    'IST0132 default/matches one or more host [web.example.com] defined in VirtualService default/matches not found in Gateway default/missing.',
    'IST0101 default/matches Referenced gateway not found: "default/also-missing"',
  ]);
  assert.equal(ds[2]?.location?.path, 'spec.http[0].match[0].gateways[3]');
  assert.equal(ds[2]?.location?.line, lineOf(yaml, '# here'));
});
