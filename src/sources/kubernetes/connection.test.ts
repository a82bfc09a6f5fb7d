/** Kubeconfig and in-cluster configuration, and a real list through a kubeconfig against the fake API server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fromKubeconfig, inCluster, loadConnection } from './connection.js';
import { FakeApiServer } from './fake-api-server.js';
import { KubernetesSource } from './kubernetes.js';
import type { SourceEvent } from '../source.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-kubeconfig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const kubeconfig = (server: string, ca: string, user: Record<string, unknown>) => stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'dev',
  clusters: [{ name: 'c1', cluster: { server: `${server}/`, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }, { name: 'c2', cluster: { server: 'https://other:6443', 'certificate-authority': 'ca.pem' } }],
  users: [{ name: 'u1', user }, { name: 'u2', user: { token: 'u2-token' } }],
  contexts: [{ name: 'dev', context: { cluster: 'c1', user: 'u1', namespace: 'mesh' } }, { name: 'prod', context: { cluster: 'c2', user: 'u2' } }],
});

test('kubeconfig: current context by default, --kube-context picks another, relative files resolve beside it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ca.pem'), 'PEM');
  writeFileSync(join(dir, 'config'), kubeconfig('https://127.0.0.1:6443', 'CA-PEM', { token: 'u1-token' }));
  const dev = fromKubeconfig(join(dir, 'config'));
  assert.deepEqual([dev.server, dev.ca, dev.namespace, (await dev.credentials()).token], ['https://127.0.0.1:6443', 'CA-PEM', 'mesh', 'u1-token']);
  const prod = loadConnection({ kubeconfig: join(dir, 'config'), context: 'prod', env: {} });
  assert.deepEqual([prod.server, prod.ca, prod.namespace, (await prod.credentials()).token], ['https://other:6443', 'PEM', 'default', 'u2-token']);
  assert.throws(() => fromKubeconfig(join(dir, 'config'), 'staging'), new RegExp(`kubeconfig ${join(dir, 'config')}: contexts has no entry named "staging"`));
  assert.throws(() => loadConnection({ env: { HOME: dir }, kubeconfig: join(dir, 'missing') }), /kubeconfig .*missing: ENOENT/);
});

test('kubeconfig exec plugin: its ExecCredential is cached until it expires or the server says 401', async (t) => {
  const dir = tempDir(t);
  const counter = join(dir, 'count');
  writeFileSync(counter, '0');
  writeFileSync(join(dir, 'plugin.mjs'), `import { readFileSync, writeFileSync } from 'node:fs';
const n = Number(readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
writeFileSync(${JSON.stringify(counter)}, String(n));
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential', status: { token: 'exec-' + n + '-' + process.env.EXTRA, expirationTimestamp: new Date(Date.now() + 3600e3).toISOString() } }));
`);
  writeFileSync(join(dir, 'config'), kubeconfig('https://127.0.0.1:6443', 'CA', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [join(dir, 'plugin.mjs')], env: [{ name: 'EXTRA', value: 'x' }] } }));
  const conn = fromKubeconfig(join(dir, 'config'));
  assert.equal((await conn.credentials()).token, 'exec-1-x');
  assert.equal((await conn.credentials()).token, 'exec-1-x', 'cached');
  conn.invalidate();
  assert.equal((await conn.credentials()).token, 'exec-2-x');
});

test('in-cluster: the service account token is read on every request (the kubelet rotates it)', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'token'), 'first\n');
  writeFileSync(join(dir, 'ca.crt'), 'CLUSTER-CA');
  writeFileSync(join(dir, 'namespace'), 'istio-system');
  const conn = inCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
  assert.deepEqual([conn.server, conn.ca, conn.namespace, (await conn.credentials()).token], ['https://10.96.0.1:443', 'CLUSTER-CA', 'istio-system', 'first']);
  writeFileSync(join(dir, 'token'), 'rotated\n');
  assert.equal((await conn.credentials()).token, 'rotated');
  assert.throws(() => inCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, join(dir, 'nowhere')), /token is missing/);
});

test('a kubeconfig with a file CA and a token lists from a real HTTPS server; a wrong token is refused and retried', async (t) => {
  const dir = tempDir(t);
  const api = new FakeApiServer(dir, { token: 'right' });
  api.put({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'istio-system' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] } });
  const server = await api.listen();
  writeFileSync(join(dir, 'ca.pem'), api.ca);
  writeFileSync(join(dir, 'config'), stringify({ 'current-context': 'k', clusters: [{ name: 'k', cluster: { server, 'certificate-authority': 'ca.pem' } }], users: [{ name: 'k', user: { tokenFile: 'token' } }], contexts: [{ name: 'k', context: { cluster: 'k', user: 'k' } }] }));
  const write = (token: string) => writeFileSync(join(dir, 'token'), token);
  write('wrong');
  const warnings: string[] = [];
  const log = { debug: () => {}, info: () => {}, warn: (msg: string, f?: Record<string, unknown>) => warnings.push(`${msg} ${String(f?.error)}`), error: () => {} };
  const source = new KubernetesSource({ kubeconfig: join(dir, 'config'), backoff: { initialMs: 20, maxMs: 50 }, log });
  t.after(async () => {
    source.stop();
    await api.close();
  });
  const events: SourceEvent[] = [];
  const started = source.start((e) => events.push(e));
  while (warnings.length < 2) await new Promise((r) => setTimeout(r, 10));
  assert.match(warnings[0] ?? '', /Kubernetes API not reachable; retrying .*HTTP 401: Unauthorized/);
  assert.equal(events.length, 0);
  write('right');
  await started;
  assert.ok(events[0]?.type === 'accepted');
  assert.deepEqual(events[0].resources.map((r) => r.kind), ['Gateway']);
});
