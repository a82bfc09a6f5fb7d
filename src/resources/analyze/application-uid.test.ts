import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { applicationUidAnalyzer } from './application-uid.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [applicationUidAnalyzer]);
const where = (d: Diagnostic): string => `${d.code} ${d.level} ${d.origin?.name} ${d.location?.path} line ${d.location?.line}`;

function deployment(name: string, podSecurity: string, containers: string, labels = ''): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n${labels}spec:\n  selector:\n    matchLabels: {app: ${name}}\n  template:\n` +
    `    metadata:\n      labels: {app: ${name}}\n    spec:\n${podSecurity}      containers:\n${containers}`;
}

const APP = '      - name: app\n        image: example/app\n';

test("a pod securityContext running as 1337 is IST0144 at its runAsUser (deployment-pod-sec-uid)", () => {
  const diags = run(deployment('deploy-pod-sec-uid', '      securityContext:\n        runAsUser: 1337\n', APP));
  assert.deepEqual(diags.map(where), ['IST0144 Warning deploy-pod-sec-uid spec.template.spec.securityContext.runAsUser line 13']);
  assert.equal(diags[0]?.message, 'User ID (UID) 1337 is reserved for the sidecar proxy.');
});

test('a container securityContext running as 1337 is IST0144 at that container (deployment-con-sec-uid)', () => {
  const containers = `${APP}      - name: worker\n        image: example/worker\n        securityContext:\n          runAsUser: 1337\n`;
  const diags = run(deployment('deploy-con-sec-uid', '', containers));
  assert.deepEqual(diags.map(where), ['IST0144 Warning deploy-con-sec-uid spec.template.spec.containers[1].securityContext.runAsUser line 18']);
});

test('the pod and each container are reported separately, as Istio does', () => {
  const containers = '      - name: a\n        image: x\n        securityContext: {runAsUser: 1337}\n      - name: b\n        image: x\n        securityContext: {runAsUser: 1337}\n';
  assert.equal(run(deployment('both', '      securityContext: {runAsUser: 1337}\n', containers)).length, 3);
});

test('other UIDs, the proxy and operator containers, and Istio control plane Deployments are fine', () => {
  assert.deepEqual(run(deployment('other', '      securityContext:\n        runAsUser: 1000\n', APP)), []);
  const proxy = `${APP}      - name: istio-proxy\n        image: proxy\n        securityContext: {runAsUser: 1337}\n      - name: istio-operator\n        image: op\n        securityContext: {runAsUser: 1337}\n`;
  assert.deepEqual(run(deployment('sidecar', '', proxy)), []);
  assert.deepEqual(run(deployment('istiod', '      securityContext: {runAsUser: 1337}\n', APP, '  labels:\n    istio: pilot\n')), []);
  assert.deepEqual(run(deployment('chart', '      securityContext: {runAsUser: 1337}\n', APP, '  labels:\n    release: istio\n')), []);
  // The pod securityContext is kept as written: a string is not a UID (Kubernetes wants an integer).
  assert.deepEqual(run(deployment('odd', '      securityContext: {runAsUser: "1337", runAsGroup: 1337}\n', APP)), []);
});

test('init containers are not checked (Istio looks at containers only)', () => {
  const yaml = deployment('init', '', APP).replace('      containers:\n', '      initContainers:\n      - name: setup\n        image: x\n        securityContext: {runAsUser: 1337}\n      containers:\n');
  assert.deepEqual(run(yaml), []);
});
