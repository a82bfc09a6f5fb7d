/**
 * `weft install` and `weft uninstall` as a user runs them: the real CLI against a real local
 * runtime in a temporary WEFT_HOME, the seed's operator file verbatim. Covers the plan, the
 * refusal to apply unconfirmed changes without a terminal, reconciliation (a re-run changes
 * nothing, a change applies only the difference), a second revision beside the first, and
 * istioctl's uninstall guard for a revision that proxies still use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../../lib/repo.js';
import { TestMesh } from '../../runtime/testing.js';

const seed = sharedPath('seed-configs', '01-istio-operator.yaml');

interface Item {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: { replicas?: number };
  status?: { containerStatuses?: { name: string; ready: boolean }[] };
}

test('weft install and uninstall against a local runtime', { timeout: 240_000 }, async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const weft = (...args: string[]) => mesh.weft(...args);
  const items = (kind: string, ...args: string[]): Item[] => mesh.json<{ items: Item[] }>('get', kind, ...args, '-o', 'json').items;

  // Without a terminal and without -y, the plan is printed and nothing applied.
  let r = weft('install', '-f', seed);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^\+ Deployment istio-system\/istiod \(replicas 2\)$/m);
  assert.match(r.stderr, /stdin is not a terminal.*run again with -y/);
  assert.deepEqual(items('deployments', '-A'), []);

  r = weft('install', '-f', seed, '-y', '--timeout', '120');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /✔ Installation complete/);
  const replicas = Object.fromEntries(items('deployments', '-n', 'istio-system').map((d) => [d.metadata.name, d.spec.replicas]));
  assert.deepEqual(replicas, { 'istio-egressgateway': 2, 'istio-ingressgateway': 2, istiod: 2 });
  const pods = items('pods', '-n', 'istio-system');
  assert.equal(pods.length, 6);
  assert.ok(pods.every((p) => p.status?.containerStatuses?.every((c) => c.ready)), JSON.stringify(pods.map((p) => p.status)));

  // Reconciliation: the same file again changes nothing; a change applies only the difference.
  r = weft('install', '-f', seed, '-y');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^no changes$/m);
  r = weft('install', '-f', seed, '-y', '--no-wait', '--set', 'components.egressGateways[0].enabled=false');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter((l) => /^[+~-] /.test(l)).join('\n'), [
    '~ IstioOperator istio-system/installed-state-istio-controlplane (spec.components.egressGateways[0].enabled true -> false)',
    '- Deployment istio-system/istio-egressgateway',
    '- Service istio-system/istio-egressgateway',
    '- ServiceAccount istio-system/istio-egressgateway-service-account',
  ].join('\n'));
  assert.deepEqual(items('deployments', '-n', 'istio-system').map((d) => d.metadata.name).sort(), ['istio-ingressgateway', 'istiod']);

  // A second revision beside the first; a namespace opting into it gets its sidecars from it.
  r = weft('install', '--revision', 'canary', '--set', 'profile=minimal', '-y', '--timeout', '120');
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepEqual(items('deployments', '-n', 'istio-system').map((d) => d.metadata.name).sort(), ['istio-ingressgateway', 'istiod', 'istiod-canary']);
  const app = join(mesh.home, 'app.yaml');
  writeFileSync(app, [
    'apiVersion: v1', 'kind: Namespace', 'metadata: {name: canary-apps, labels: {istio.io/rev: canary}}', '---',
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: sleeper, namespace: canary-apps}',
    'spec:', '  selector: {matchLabels: {app: sleeper}}', '  template:', '    metadata: {labels: {app: sleeper}}',
    '    spec:', '      containers:', `      - {name: app, image: sleeper, command: [${JSON.stringify(process.execPath)}, -e, "setInterval(() => {}, 1e9)"]}`, '',
  ].join('\n'));
  assert.equal(weft('apply', '-f', app).code, 0);
  for (let i = 0; i < 100 && items('pods', '-n', 'canary-apps').length === 0; i++) await new Promise((res) => setTimeout(res, 100));

  // istioctl's guard: proxies still use the revision, so without -y (and no terminal) nothing goes.
  r = weft('uninstall', '--revision', 'canary');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /There are still 1 proxies pointing to the control plane revision canary\ncanary-apps\/sleeper-/);
  assert.match(r.stderr, /stdin is not a terminal; run again with -y/);
  assert.ok(items('deployments', '-n', 'istio-system').some((d) => d.metadata.name === 'istiod-canary'));
  r = weft('uninstall', '--revision', 'canary', '-y');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^- Deployment istio-system\/istiod-canary$/m);
  assert.deepEqual(items('deployments', '-n', 'istio-system').map((d) => d.metadata.name).sort(), ['istio-ingressgateway', 'istiod']);

  r = weft('uninstall', '--revision', 'canary');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /could not find target revision "canary"; installed: default/);

  // Purge: everything an install created goes; namespaces stay, as istioctl leaves them.
  r = weft('uninstall', '--purge', '-y');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /All Istio resources will be pruned/);
  assert.deepEqual(items('deployments', '-n', 'istio-system'), []);
  assert.ok(items('namespaces').some((n) => n.metadata.name === 'istio-system'));
});
