import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { handleAppHealth, parseAppProbers } from './app-health.js';

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

test('rewritten probes: the app\'s own answer for HTTP, a connect for TCP, 404 for an unknown prober', async (t) => {
  const app = http.createServer((req, res) => res.writeHead(req.url === '/healthy' ? 200 : 500).end());
  const appPort = await listen(app);
  const closed = net.createServer();
  const closedPort = await listen(closed);
  await new Promise<void>((r) => closed.close(() => r()));
  const probers = parseAppProbers(JSON.stringify({
    '/app-health/web/readyz': { httpGet: { path: '/healthy', port: appPort }, timeoutSeconds: 1 },
    '/app-health/web/livez': { httpGet: { path: '/broken', port: appPort } },
    '/app-health/db/readyz': { tcpSocket: { port: appPort } },
    '/app-health/db/livez': { tcpSocket: { port: closedPort } },
  }));
  const status = http.createServer((req, res) => {
    if (!handleAppHealth(req, res, probers, '127.0.0.1')) res.writeHead(418).end();
  });
  const statusPort = await listen(status);
  t.after(() => {
    app.close();
    status.close();
  });
  const get = (path: string) => new Promise<number>((resolve, reject) => http.get({ host: '127.0.0.1', port: statusPort, path, agent: false }, (res) => {
    res.resume();
    resolve(res.statusCode ?? 0);
  }).on('error', reject));
  assert.equal(await get('/app-health/web/readyz'), 200);
  assert.equal(await get('/app-health/web/livez'), 500);
  assert.equal(await get('/app-health/db/readyz'), 200);
  assert.equal(await get('/app-health/db/livez'), 503);
  assert.equal(await get('/app-health/other/readyz'), 404);
  assert.equal(await get('/stats/prometheus'), 418, 'other paths are left to the status port');
});

test('probers JSON: every entry needs an /app-health/ path and a port', () => {
  assert.throws(() => parseAppProbers('[]'), /expected an object/);
  assert.throws(() => parseAppProbers('{"/healthz": {"httpGet": {"port": 80}}}'), /does not start with \/app-health\//);
  assert.throws(() => parseAppProbers('{"/app-health/a/readyz": {"httpGet": {"port": "http"}}}'), /app-health\/a\/readyz: httpGet.port or tcpSocket.port must be a port number/);
});
