/**
 * The demo's HTTP client against real servers on loopback: absolute-URI requests to an HTTP proxy,
 * origin-form without one, the timeout covering the whole exchange, and one quiet retry when a
 * pooled keep-alive connection turns out to have been closed by the other side (a sidecar closing
 * idle connections must not show up as "reviews unavailable").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket, AddressInfo } from 'node:net';
import { Upstreams } from './upstream.js';

async function server(t: { after(fn: () => unknown): void }, handle: http.RequestListener): Promise<number> {
  const s = http.createServer(handle);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  }));
  return (s.address() as AddressInfo).port;
}

test('through HTTP_PROXY: absolute-URI request line, Host of the service, headers kept', async (t) => {
  const seen: { url?: string; host?: string; trace?: string }[] = [];
  const port = await server(t, (req, res) => {
    seen.push({ url: req.url, host: req.headers.host, trace: req.headers['x-request-id'] as string });
    res.end('{"ok":true}');
  });
  const upstreams = new Upstreams({ HTTP_PROXY: `http://127.0.0.1:${port}` });
  t.after(() => upstreams.close());
  const got = await upstreams.get(`${upstreams.baseUrl('ratings')}/ratings/0`, { 'x-request-id': 'r1' }, 5_000);
  assert.deepEqual(got, { status: 200, body: '{"ok":true}' });
  assert.deepEqual(seen, [{ url: 'http://ratings:9080/ratings/0', host: 'ratings:9080', trace: 'r1' }]);
});

test('without a proxy: origin-form to the address itself', async (t) => {
  let url = '';
  const port = await server(t, (req, res) => {
    url = req.url ?? '';
    res.writeHead(503).end('nope');
  });
  const upstreams = new Upstreams({ DETAILS_URL: `http://127.0.0.1:${port}` });
  t.after(() => upstreams.close());
  assert.deepEqual(await upstreams.get(`${upstreams.baseUrl('details')}/details/7?x=1`, {}, 5_000), { status: 503, body: 'nope' });
  assert.equal(url, '/details/7?x=1');
});

test('the timeout covers the body: headers sent and the body never finished is a failure', async (t) => {
  const port = await server(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('partial');
  });
  const upstreams = new Upstreams({});
  t.after(() => upstreams.close());
  await assert.rejects(upstreams.get(`http://127.0.0.1:${port}/slow`, {}, 200), /no complete response from http:\/\/127\.0\.0\.1:\d+\/slow within 200 ms/);
});

test('a pooled connection closed by the server is retried once on a fresh one; a fresh one failing is not', async (t) => {
  const sockets = new Map<Socket, number>();
  let requests = 0;
  const port = await server(t, (req, res) => {
    requests++;
    const served = sockets.get(req.socket) ?? 0;
    sockets.set(req.socket, served + 1);
    // The second request on a connection meets a server that has just given up on it.
    if (served === 1 || req.url === '/always-reset') req.socket.destroy();
    else res.end('fine');
  });
  const upstreams = new Upstreams({});
  t.after(() => upstreams.close());
  assert.equal((await upstreams.get(`http://127.0.0.1:${port}/a`, {}, 5_000)).body, 'fine');
  assert.equal((await upstreams.get(`http://127.0.0.1:${port}/b`, {}, 5_000)).body, 'fine');
  assert.equal(requests, 3, 'the request on the closed connection, then the retry on a new one');
  assert.equal(sockets.size, 2);
  const fresh = new Upstreams({});
  t.after(() => fresh.close());
  requests = 0;
  await assert.rejects(fresh.get(`http://127.0.0.1:${port}/always-reset`, {}, 5_000), /socket hang up|ECONNRESET/);
  assert.equal(requests, 1);
});
