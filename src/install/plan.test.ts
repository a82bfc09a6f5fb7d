/**
 * Plans from real renders: what the seed's operator file installs on an empty runtime, and
 * what re-running it with no change, a scale change, a gateway turned off or a new revision
 * does to that install. The "installed" objects are the rendered ones as the runtime stores and
 * lists them (its own metadata and a Deployment status added).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../lib/repo.js';
import { resolveOperator } from './operator.js';
import { renderInstall } from './render.js';
import { formatPlan, planInstall, planUninstall } from './plan.js';
import { gatewaysRemoved, installedRevisions, proxiesOf } from './reconcile.js';
import { withDefaultTag } from './default-revision.js';
import type { KubeObject } from './objects.js';

const seed = { file: 'seed-configs/01-istio-operator.yaml', text: readFileSync(sharedPath('seed-configs', '01-istio-operator.yaml'), 'utf8') };

function render(sets: string[] = [], revision?: string, files = [seed]): KubeObject[] {
  const r = resolveOperator({ files, sets, ...(revision !== undefined ? { revision } : {}) });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return renderInstall(r.operator);
}

/** As the runtime lists what it stored: server metadata, and a status on Deployments. */
function asInstalled(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o) => ({
    ...structuredClone(o),
    metadata: { ...structuredClone(o.metadata), uid: `uid-${o.metadata.name}`, creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 },
    ...(o.kind === 'Deployment' ? { status: { replicas: 2, readyReplicas: 2 } } : {}),
  }));
}

test('a fresh install creates everything, namespace first', () => {
  assert.equal(formatPlan(planInstall([], render(), '')), [
    '+ Namespace istio-system',
    '+ ServiceAccount istio-system/istio-egressgateway-service-account',
    '+ ServiceAccount istio-system/istio-ingressgateway-service-account',
    '+ ServiceAccount istio-system/istiod',
    '+ Service istio-system/istio-egressgateway (ClusterIP 80, 443)',
    '+ Service istio-system/istio-ingressgateway (LoadBalancer 15021, 80, 443)',
    '+ Service istio-system/istiod (ClusterIP 15010, 15012, 15014, 15017)',
    '+ Deployment istio-system/istio-egressgateway (replicas 2)',
    '+ Deployment istio-system/istio-ingressgateway (replicas 2)',
    '+ Deployment istio-system/istiod (replicas 2)',
    '+ IstioOperator istio-system/installed-state-istio-controlplane (profile default, revision default)',
    '',
  ].join('\n'));
});

test('re-running the same install changes nothing', () => {
  const installed = asInstalled(render());
  assert.equal(formatPlan(planInstall(installed, render(), '')), 'no changes\n');
});

test('a scale change changes the gateway and the installed state only', () => {
  const installed = asInstalled(render());
  const plan = planInstall(installed, render(['components.ingressGateways[0].k8s.replicaCount=3']), '');
  assert.equal(formatPlan(plan), [
    '~ Deployment istio-system/istio-ingressgateway (replicas 2 -> 3)',
    '~ IstioOperator istio-system/installed-state-istio-controlplane (spec.components.ingressGateways[0].k8s.replicaCount 2 -> 3)',
    '',
  ].join('\n'));
});

test('a gateway turned off is removed, Deployment first', () => {
  const installed = asInstalled(render());
  const plan = planInstall(installed, render(['components.egressGateways[0].enabled=false']), '');
  assert.equal(formatPlan(plan), [
    '~ IstioOperator istio-system/installed-state-istio-controlplane (spec.components.egressGateways[0].enabled true -> false)',
    '- Deployment istio-system/istio-egressgateway',
    '- Service istio-system/istio-egressgateway',
    '- ServiceAccount istio-system/istio-egressgateway-service-account',
    '',
  ].join('\n'));
  assert.deepEqual(gatewaysRemoved(plan), ['Deployment istio-system/istio-egressgateway']);
});

test('a field the install no longer sets shows as a change', () => {
  const installed = asInstalled(render(['values.pilot.env.PILOT_ENABLE_X=true']));
  const plan = planInstall(installed, render(), '');
  assert.deepEqual(plan.map((s) => `${s.action} ${s.object.kind} ${s.detail}`), [
    'change Deployment spec.template.spec.containers[0].env changed',
    'change IstioOperator settings removed since the last install',
  ]);
});

test('a second revision installs beside the first and takes the gateways over in place', () => {
  const installed = asInstalled(render());
  const plan = planInstall(installed, render([], '1-20-1'), '1-20-1');
  const lines = formatPlan(plan).split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('+')), [
    '+ ServiceAccount istio-system/istiod-1-20-1',
    '+ Service istio-system/istiod-1-20-1 (ClusterIP 15010, 15012, 15014, 15017)',
    '+ Deployment istio-system/istiod-1-20-1 (replicas 2)',
    '+ IstioOperator istio-system/installed-state-istio-controlplane-1-20-1 (profile default, revision 1-20-1)',
  ]);
  // Nothing of the default revision goes; the gateways change revision in place.
  assert.deepEqual(lines.filter((l) => l.startsWith('-')), []);
  assert.ok(lines.includes('~ Deployment istio-system/istio-ingressgateway (metadata.labels["istio.io/rev"] default -> 1-20-1, '
    + 'spec.template.metadata.labels["istio.io/rev"] default -> 1-20-1)'), lines.join('\n'));

  const both = asInstalled([...render(), ...plan.filter((p) => p.action === 'create').map((p) => p.object)]);
  assert.deepEqual(installedRevisions(both), ['1-20-1', 'default']);
});

test('uninstall removes one revision, or with purge everything but namespaces', () => {
  const canary = render(['profile=minimal'], 'canary', []).filter((o) => o.kind !== 'Namespace');
  const installed = asInstalled([...render(), ...canary]);
  assert.equal(formatPlan(planUninstall(installed, 'canary')), [
    '- IstioOperator istio-system/installed-state-canary',
    '- Deployment istio-system/istiod-canary',
    '- Service istio-system/istiod-canary',
    '- ServiceAccount istio-system/istiod-canary',
    '',
  ].join('\n'));
  const purge = planUninstall(installed, 'all');
  assert.equal(purge.length, 14, formatPlan(purge));
  assert.ok(purge.every((s) => s.object.kind !== 'Namespace'));
});

test('proxies of a revision: sidecars by injection status, gateways by label, not the install\'s own', () => {
  const pod = (name: string, labels: Record<string, string>, annotations: Record<string, string>, containers: string[]): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels, annotations }, spec: { containers: containers.map((c) => ({ name: c })) },
  });
  const pods = [
    pod('reviews-1', {}, { 'sidecar.istio.io/status': JSON.stringify({ containers: ['istio-proxy'], revision: 'canary' }) }, ['app', 'istio-proxy']),
    pod('ratings-1', {}, { 'sidecar.istio.io/status': JSON.stringify({ containers: ['istio-proxy'], revision: 'default' }) }, ['app', 'istio-proxy']),
    pod('my-gateway-1', { 'istio.io/rev': 'canary' }, {}, ['istio-proxy']),
    pod('istio-ingressgateway-1', { 'istio.io/rev': 'canary', 'operator.istio.io/component': 'IngressGateways' }, {}, ['istio-proxy']),
    pod('plain-1', {}, {}, ['app']),
  ];
  assert.deepEqual(proxiesOf(pods, 'canary'), ['default/my-gateway-1', 'default/reviews-1']);
  assert.deepEqual(proxiesOf(pods, ''), ['default/ratings-1']);
});

test('the first revision installed becomes the default for injection, as istioctl makes it', () => {
  const resolved = resolveOperator({ files: [seed], sets: [], revision: '1-20-1' });
  assert.ok(resolved.ok);
  const defaultRevision = (objects: KubeObject[]) => {
    const state = objects.find((o) => o.kind === 'IstioOperator');
    return ((state?.spec as { values?: { defaultRevision?: string } }).values ?? {}).defaultRevision;
  };
  const first = withDefaultTag(resolved.operator, []);
  assert.equal(first.madeDefault, true);
  const installed = asInstalled(renderInstall(first.operator));
  assert.equal(defaultRevision(installed), '1-20-1');
  // Re-running keeps the tag, with nothing to change.
  const again = withDefaultTag(resolved.operator, installed);
  assert.equal(again.madeDefault, false);
  assert.equal(formatPlan(planInstall(installed, renderInstall(again.operator), '1-20-1')), 'no changes\n');
  // Beside an installed default revision it does not take the tag.
  const beside = withDefaultTag(resolved.operator, asInstalled(render()));
  assert.equal(beside.madeDefault, false);
  assert.equal(defaultRevision(renderInstall(beside.operator)), '');
});
