/**
 * A change recompiles only the proxies it can affect (compiler/dependencies.ts), end to end: a
 * file source, the control plane and real proxies on HTTP/2. Two namespaces, each narrowed by its
 * Sidecar to itself; a VirtualService in one and a pod going unready in the other
 * each recompile and push their own namespace's proxies, and the other proxies keep their version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../sources/index.js';
import { DiscoveryClient } from '../distribution/index.js';
import type { ProxyNode } from '../proxy-config/index.js';
import { ControlPlane } from './control-plane.js';
import { loadTokenKey, mintToken } from './token.js';

/** A namespace's Service, and its default Sidecar narrowing its proxies to the namespace itself. */
function namespace(ns: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: ${ns}}
spec:
  egress:
  - hosts: ["./*"]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: ${ns}}
spec:
  selector: {app: app}
  ports:
  - {name: http, port: 8000, targetPort: 8080}
`;
}

function pod(ns: string, name: string, ip: string, ready: boolean): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: app}}
spec:
  serviceAccountName: default
  containers:
  - {name: app, image: app, ports: [{containerPort: 8080}]}
  - {name: istio-proxy, image: auto}
status:
  phase: Running
  podIP: ${ip}
  conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]
`;
}

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app, namespace: team-a}
spec:
  hosts: [app]
  http:
  - route: [{destination: {host: app}}]
    timeout: 2s
`;

const nodeOf = (ns: string, name: string, ip: string): ProxyNode => ({ id: `${name}.${ns}`, role: 'sidecar', namespace: ns, workload: 'app', labels: { app: 'app' }, serviceAccount: 'default', ip, revision: '' });

test('a change recompiles and pushes only the proxies it affects; the others keep their version', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-scoped-'));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  write('team-a.yaml', `${namespace('team-a')}---\n${pod('team-a', 'a-0', '10.1.0.1', true)}---\n${pod('team-a', 'a-1', '10.1.0.2', true)}`);
  write('team-b.yaml', `${namespace('team-b')}---\n${pod('team-b', 'b-0', '10.2.0.1', true)}---\n${pod('team-b', 'b-1', '10.2.0.2', true)}`);
  const source = new FileSource({ paths: [dir], watch: false });
  const key = loadTokenKey(join(dir, '.state'));
  const cp = new ControlPlane({ sources: [source], replicaId: 'istiod-test', tokenKey: key, debounceMs: 10, graphScrapeIntervalMs: 0 });
  await cp.start();
  const port = await cp.push.listen(0, '127.0.0.1');
  const clients: DiscoveryClient[] = [];
  t.after(async () => {
    for (const c of clients) c.stop();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const nodes = [nodeOf('team-a', 'a-0', '10.1.0.1'), nodeOf('team-a', 'a-1', '10.1.0.2'), nodeOf('team-b', 'b-0', '10.2.0.1')];
  const applied = new Map<string, string[]>();
  await Promise.all(nodes.map((node) => {
    const client = new DiscoveryClient({ servers: [`http://127.0.0.1:${port}`], node, token: mintToken(key, node.id, node.serviceAccount), apply: () => ({ ok: true }), backoff: { initialMs: 5_000, maxMs: 5_000 } });
    clients.push(client);
    client.on('applied', (version: string) => applied.set(node.id, [...(applied.get(node.id) ?? []), version]));
    client.start();
    return new Promise((resolve) => client.once('applied', resolve));
  }));
  const compiles = () => Number(/^weft_proxy_config_compiles (\d+)$/m.exec(cp.metrics.render())?.[1]);
  const settle = async (expected: Record<string, number>) => {
    const deadline = Date.now() + 10_000;
    while (!cp.push.idle() || Object.entries(expected).some(([id, n]) => (applied.get(id)?.length ?? 0) < n)) {
      if (Date.now() > deadline) assert.fail(`not settled: idle ${cp.push.idle()}, applied ${JSON.stringify([...applied])}, compiles ${compiles()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await settle({}); // the first load's push (to everyone) is done
  const before = compiles();

  // A VirtualService in team-a: team-a's two proxies, nobody else.
  write('vs.yaml', VS);
  source.reload();
  await settle({ 'a-0.team-a': 2, 'a-1.team-a': 2 });
  assert.equal(compiles(), before + 2);
  assert.equal(applied.get('b-0.team-b')?.length, 1, 'team-b kept its config');

  // b-1 (no proxy connected here) goes unready: team-b's proxy loses the endpoint; team-a is untouched.
  write('team-b.yaml', `${namespace('team-b')}---\n${pod('team-b', 'b-0', '10.2.0.1', true)}---\n${pod('team-b', 'b-1', '10.2.0.2', false)}`);
  source.reload();
  await settle({ 'b-0.team-b': 2 });
  assert.equal(compiles(), before + 3);
  assert.equal(applied.get('a-0.team-a')?.length, 2);
  assert.equal(applied.get('a-1.team-a')?.length, 2);
  const eds = cp.configDump('b-0.team-b')?.endpoints.find((e) => e.cluster === 'outbound|8000||app.team-b.svc.cluster.local');
  assert.deepEqual(eds?.endpoints.map((e) => e.address), ['10.2.0.1']);
});
