/**
 * `weft proxy` as a real process with telemetry: the access log goes to its stdout when the
 * mesh config says `/dev/stdout`, 15090 serves the proxy's metrics, and 15020 serves them merged
 * with the app's (scraped where `--app-metrics-port` says, as Istio merges prometheus.io targets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstream, send, spawnProxy } from '../test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../test-config.js';
import { parseExposition, sum } from './parse.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300 && !(await done()); i++) await new Promise((r) => setTimeout(r, 20));
}

test('weft proxy: access log on stdout, metrics on the prometheus port, merged with the app\'s on the status port', async (t) => {
  const app = await startUpstream('productpage');
  t.after(() => app.close());
  app.handle((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('# TYPE app_requests_total counter\napp_requests_total 7\n');
      return;
    }
    res.writeHead(200);
    res.end('ok');
  });
  const dir = mkdtempSync(join(tmpdir(), 'weft-telemetry-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('all', ['*'], [route('productpage', {}, forward('outbound|9080||productpage.default.svc.cluster.local'))])] }],
    clusters: [cluster('outbound|9080||productpage.default.svc.cluster.local', { service: { host: 'productpage.default.svc.cluster.local', name: 'productpage', namespace: 'default', port: 9080 } })],
    endpoints: [endpoints('outbound|9080||productpage.default.svc.cluster.local', [app.port])],
  });
  const configPath = join(dir, 'proxy.json');
  writeFileSync(configPath, JSON.stringify({ ...base, mesh: { ...base.mesh, accessLog: { encoding: 'JSON', file: '/dev/stdout' } } }));
  const proxy = await spawnProxy(t, main, ['--config', configPath, '--bind', '127.0.0.1', '--admin-port', '0', '--health-port', '0', '--port-map', '80=0',
    '--prometheus-port', '0', '--status-port', '0', '--app-metrics-port', String(app.port), '--app-metrics-path', '/metrics']);
  const ports = proxy.ports;
  assert.ok(ports.prometheus && ports.status && ports['gateway:80'] && ports.admin, JSON.stringify(ports));

  assert.equal((await send(ports['gateway:80'] ?? 0, { path: '/productpage', host: 'bookinfo.example.com' })).status, 200);
  // The endpoint names no workload (no sidecar known behind it): the metadata exchange is not offered to it.
  assert.equal(app.received.find((r) => r.url === '/productpage')?.headers['x-envoy-peer-metadata'], undefined);
  await until(() => proxy.stdout().includes('"path":"/productpage"'));
  const line = proxy.stdout().split('\n').find((l) => l.includes('"path":"/productpage"')) ?? '';
  const entry = JSON.parse(line) as Record<string, unknown>;
  assert.equal(entry.response_code, 200);
  assert.equal(entry.authority, 'bookinfo.example.com');
  assert.equal(entry.upstream_cluster, 'outbound|9080||productpage.default.svc.cluster.local');

  // A gateway reports as source, for the service the cluster names.
  const own = parseExposition(await get(ports.prometheus ?? 0, '/stats/prometheus')).samples;
  assert.equal(sum(own, 'istio_requests_total', { reporter: 'source', destination_service: 'productpage.default.svc.cluster.local', response_code: '200' }), 1);
  assert.equal(sum(own, 'app_requests_total'), 0);
  const merged = parseExposition(await get(ports.status ?? 0, '/stats/prometheus')).samples;
  assert.equal(sum(merged, 'app_requests_total'), 7);
  assert.equal(sum(merged, 'istio_requests_total', { reporter: 'source' }), 1);
  assert.match(String(own.find((s) => s.name === 'istio_build')?.labels.tag), /^\d+\.\d+\.\d+/);
  const admin = parseExposition(await get(ports.admin ?? 0, '/stats/prometheus')).samples;
  assert.equal(sum(admin, 'istio_requests_total'), 1);
});
