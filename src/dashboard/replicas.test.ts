/**
 * Other replicas' proxies, read as `weft proxy-status` reads them: a real `weft control-plane`
 * with a real `weft proxy` (an ingress gateway) connected, asked through its monitoring port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Processes, waitFor, weft } from '../e2e/kit.js';
import { loadResources } from '../resources/index.js';
import { Replicas, replicaUrls } from './replicas.js';

const NODE_ID = 'ingress.istio-system';
const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
`;

test('a replica\'s proxies and their redacted config are read from its monitoring port; its own answer is left out', async (t) => {
  const procs = new Processes();
  const dir = mkdtempSync(join(tmpdir(), 'weft-dashboard-replicas-'));
  t.after(async () => {
    await procs.killAll();
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'gateway.yaml'), GATEWAY);
  const stateDir = join(dir, 'state');
  const token = weft('control-plane', 'token', NODE_ID, '--state-dir', stateDir);
  assert.equal(token.code, 0, token.stderr);
  writeFileSync(join(dir, 'token'), token.stdout);
  writeFileSync(join(dir, 'node.json'), JSON.stringify({ id: NODE_ID, role: 'ingress-gateway', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }));
  const cp = await procs.start('istiod-b', ['control-plane', '--config', join(dir, 'config'), '--state-dir', stateDir, '--port', '0', '--monitoring-port', '0',
    '--replica-id', 'istiod-b', '--zipkin-port', 'none', '--dashboard-port', 'none']).ready;
  await procs.start('proxy', ['proxy', '--control-plane', `127.0.0.1:${cp.ports.xds}`, '--node', join(dir, 'node.json'), '--token-file', join(dir, 'token'),
    '--port-map', '80=0', '--admin-port', '0', '--health-port', '0', '--bind', '127.0.0.1']).ready;
  const base = `http://127.0.0.1:${cp.ports.monitoring}`;

  const replicas = new Replicas({ self: 'istiod-a', peers: () => [base, 'http://127.0.0.1:1'], intervalMs: 0 });
  const proxies = await waitFor('the proxy acknowledged on istiod-b', async () => {
    await replicas.refresh();
    const all = replicas.proxies();
    return all.some((p) => p.state === 'SYNCED') ? all : undefined;
  });
  assert.deepEqual(proxies.map((p) => [p.nodeId, p.replica, p.role]), [[NODE_ID, 'istiod-b', 'ingress-gateway']], 'an unreachable replica is skipped');
  const config = (await replicas.configDump(NODE_ID)) as { node: { id: string }; secrets: { name: string; privateKey?: string }[] };
  assert.equal(config.node.id, NODE_ID);
  assert.ok(config.secrets.every((s) => s.privateKey === undefined || s.privateKey === '[redacted]'));
  assert.equal(await replicas.configDump('nobody.default'), undefined);

  const self = new Replicas({ self: 'istiod-b', peers: () => [base], intervalMs: 0 });
  await self.refresh();
  assert.deepEqual(self.proxies(), [], 'a replica does not list its own proxies twice');
});

test('replicas are the control plane pods in the store', () => {
  const loaded = loadResources([{ file: 'pods.yaml', text: `apiVersion: v1
kind: Pod
metadata: {name: istiod-x, namespace: istio-system, labels: {app: istiod}}
spec: {containers: [{name: discovery, image: weft}]}
status: {phase: Running, podIP: 127.9.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: istiod-canary-y, namespace: istio-system, labels: {app: istiod}}
spec: {containers: [{name: discovery, image: weft}]}
status: {phase: Running, podIP: "fd00::4"}
---
apiVersion: v1
kind: Pod
metadata: {name: istiod-starting, namespace: istio-system, labels: {app: istiod}}
spec: {containers: [{name: discovery, image: weft}]}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}}
spec: {containers: [{name: web, image: web}]}
status: {phase: Running, podIP: 127.9.0.9}
` }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
  assert.deepEqual(replicaUrls(loaded.resources, 15014), ['http://127.9.0.3:15014', 'http://[fd00::4]:15014']);
});
