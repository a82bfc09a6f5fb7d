/** The control plane in-process: a file source feeding the push server, proxies authenticated by token. */
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

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
`;

const node: ProxyNode = { id: 'ingress.istio-system', role: 'ingress-gateway', namespace: 'istio-system', workload: 'ingress', labels: { istio: 'ingressgateway' }, serviceAccount: 'default', ip: '127.0.0.1', revision: '' };

async function setup(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cp-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const key = loadTokenKey(join(dir, '.state'));
  const cp = new ControlPlane({ sources: [new FileSource({ paths: [dir], watch: false })], replicaId: 'istiod-test', tokenKey: key, debounceMs: 10 });
  await cp.start();
  const port = await cp.push.listen(0, '127.0.0.1');
  const clients: DiscoveryClient[] = [];
  t.after(async () => {
    for (const c of clients) c.stop();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const connect = (token: string, as: ProxyNode = node) => {
    const client = new DiscoveryClient({ servers: [`http://127.0.0.1:${port}`], node: as, token, apply: () => ({ ok: true }), backoff: { initialMs: 5_000, maxMs: 5_000 } });
    clients.push(client);
    client.start();
    return client;
  };
  return { cp, key, connect };
}

test('a proxy with its own token gets its config; /debug/config_dump compiles the same version', async (t) => {
  const { cp, key, connect } = await setup(t, { 'gw.yaml': GATEWAY });
  assert.equal(cp.ready(), true);
  const client = connect(mintToken(key, node.id, node.serviceAccount));
  const version = await new Promise<string>((resolve) => client.once('applied', resolve));
  assert.equal(cp.configDump(node.id)?.version, version);
  assert.deepEqual(cp.configDump(node.id)?.listeners.map((l) => l.port), [80]);
  assert.equal(cp.configDump('someone-else.default'), undefined);
});

test('a token minted for another node id is refused and the proxy never appears', async (t) => {
  const { cp, key, connect } = await setup(t, { 'gw.yaml': GATEWAY });
  const client = connect(mintToken(key, 'reviews-v1-0.default', 'default'));
  const reason = await new Promise<string>((resolve) => client.once('disconnected', resolve));
  assert.match(reason, /UNAUTHENTICATED/);
  assert.deepEqual(cp.proxies(), []);
});

test('a token for the node id but another service account is refused (the token binds the identity)', async (t) => {
  const { cp, key, connect } = await setup(t, { 'gw.yaml': GATEWAY });
  const client = connect(mintToken(key, node.id, 'istio-ingressgateway-service-account'));
  const reason = await new Promise<string>((resolve) => client.once('disconnected', resolve));
  assert.match(reason, /UNAUTHENTICATED/);
  assert.deepEqual(cp.proxies(), []);
});

test('a hello claiming a namespace other than its node id\'s is refused, even with a token for that id', async (t) => {
  const { cp, key, connect } = await setup(t, { 'gw.yaml': GATEWAY });
  const client = connect(mintToken(key, node.id, node.serviceAccount), { ...node, namespace: 'default' });
  const reason = await new Promise<string>((resolve) => client.once('disconnected', resolve));
  assert.match(reason, /UNAUTHENTICATED/);
  assert.deepEqual(cp.proxies(), []);
});

test('with no valid set loaded the control plane is not ready and sends nothing (never an empty config)', async (t) => {
  const { cp, key, connect } = await setup(t, { 'bad.yaml': 'kind: VirtualService\napiVersion: networking.istio.io/v1\nmetadata: {name: x}\nspec: {hosts: 7}\n' });
  assert.equal(cp.ready(), false);
  assert.equal(cp.lastRejected()?.active, true);
  assert.ok((cp.lastRejected()?.errors.length ?? 0) > 0);
  const errors: string[] = [];
  cp.push.on('config-error', (_id, error) => errors.push(error));
  const client = connect(mintToken(key, node.id, node.serviceAccount));
  await new Promise<void>((resolve) => cp.push.once('connected', () => resolve()));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(client.current(), undefined);
  assert.match(errors.join(), /no valid configuration has been loaded yet/);
  assert.equal(cp.proxies()[0]?.state, 'NOT SENT');
});
