/**
 * Access logs switched by Telemetry resources, in a real sidecar on loopback: the mesh runtime
 * configs are the ones the compiler emitted in the golden case telemetry/access-log-precedence
 * (read as data: the proxy does not import the compiler). `accessLogs` replaces the meshConfig
 * `accessLog`; a `mode` keeps a log to the server side (inbound) or the client side (outbound);
 * an empty list turns logging off. Each check ends with a request that is logged, so an earlier
 * line that should not exist would have been written before it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { MeshRuntimeConfig, ProxyConfig } from '../../proxy-config/index.js';
import { repoPath } from '../../lib/repo.js';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream, freePort } from '../test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../test-config.js';

/** The mesh runtime config the compiler emitted for `nodeId` in the golden case. */
function goldenMesh(nodeId: string): MeshRuntimeConfig {
  const docs = parseAllDocuments(readFileSync(repoPath('src', 'compiler', 'testdata', 'telemetry', 'access-log-precedence.out.yaml'), 'utf8')).map((d) => d.toJS() as ProxyConfig);
  const mesh = docs.find((c) => c.node.id === nodeId)?.mesh;
  if (!mesh) throw new Error(`no config for ${nodeId} in telemetry/access-log-precedence.out.yaml`);
  return mesh;
}

let app: TestUpstream;
let proxy: TestProxy;
let base: ProxyConfig;
let mapPort: number;
let version = 1;
const lines: string[] = [];

before(async () => {
  app = await startUpstream('reviews');
  mapPort = await freePort();
  base = proxyConfig({
    role: 'sidecar',
    listeners: [
      httpListener('0.0.0.0_9080', 'outbound', 9080, '9080'),
      { name: 'virtualInbound', direction: 'inbound', address: '0.0.0.0', port: 15006, filterChains: [{ name: '0.0.0.0_9080', match: { destinationPort: 9080 }, protocol: 'http', http: { routeConfig: 'inbound|9080||', filters: [], statPrefix: 'inbound_0.0.0.0_9080' } }] },
    ],
    routes: [
      { name: '9080', virtualHosts: [vhost('reviews:9080', ['reviews', 'reviews:9080'], [route('default', {}, forward('outbound|9080||reviews'))])] },
      { name: 'inbound|9080||', virtualHosts: [vhost('inbound|http|9080', ['*'], [route('default', {}, forward('inbound|9080||'))])] },
    ],
    clusters: [cluster('outbound|9080||reviews'), cluster('inbound|9080||')],
    endpoints: [endpoints('outbound|9080||reviews', [app.port]), endpoints('inbound|9080||', [app.port])],
  });
  proxy = await startProxy(base, { bootstrap: { inboundPortMap: new Map([[mapPort, 9080]]) }, proxy: { accessLogSink: (l) => lines.push(l) } });
});

after(async () => {
  await proxy?.close();
  await app?.close();
});

/** Applies a mesh runtime config (the legacy meshConfig access log stays on underneath). */
async function useMesh(mesh: MeshRuntimeConfig): Promise<void> {
  const result = await proxy.proxy.applyConfig({ ...base, version: String(++version), mesh: { ...mesh, accessLog: { encoding: 'TEXT', file: '/dev/stdout' } } });
  if (!result.accepted) assert.fail(`config rejected: ${result.errors.join('; ')}`);
}

const outbound = (path: string) => send(proxy.port('outbound'), { path: `http://reviews:9080${path}` });
const inbound = (path: string) => send(proxy.port(`inbound-map:${mapPort}`), { path, host: 'reviews:9080' });

/** Waits until a line for `path` is written; the lines written so far that name a path. */
async function logged(path: string): Promise<string[]> {
  for (let i = 0; i < 300 && !lines.some((l) => l.includes(` ${path} `)); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(lines.some((l) => l.includes(` ${path} `)), `no access log line for ${path}`);
  return lines.map((l) => /"GET (\S+) /.exec(l)?.[1] ?? '').filter((p) => p !== '');
}

test('a workload Telemetry with match SERVER logs inbound requests only, replacing the meshConfig log', async () => {
  const mesh = goldenMesh('reviews-v1-0.default');
  assert.deepEqual(mesh.accessLogs, [{ encoding: 'TEXT', file: '/dev/stdout', mode: 'SERVER' }]);
  await useMesh(mesh);
  assert.equal((await outbound('/server-only/out')).status, 200);
  assert.equal((await inbound('/server-only/in')).status, 200);
  const paths = await logged('/server-only/in');
  assert.ok(!paths.includes('/server-only/out'), 'the outbound (client side) request was logged');
});

test('a namespace Telemetry that disables the provider turns access logs off (accessLogs: [])', async () => {
  await useMesh(goldenMesh('productpage-v1-0.default'));
  assert.equal((await outbound('/off/out')).status, 200);
  assert.equal((await inbound('/off/in')).status, 200);
  // Back to a config that logs both sides; the marker is logged, the two above were not.
  await useMesh(goldenMesh('ratings-v1-0.default'));
  assert.equal((await inbound('/marker-after-off')).status, 200);
  const paths = await logged('/marker-after-off');
  assert.ok(!paths.includes('/off/out') && !paths.includes('/off/in'), `logged while off: ${paths.join(', ')}`);
});

test('a workload Telemetry that inherits the provider logs both sides', async () => {
  await useMesh(goldenMesh('ratings-v1-0.default'));
  assert.equal((await outbound('/both/out')).status, 200);
  await logged('/both/out');
  assert.equal((await inbound('/both/in')).status, 200);
  await logged('/both/in');
});
