/**
 * Hostile and broken clients, answered as Envoy answers them, and never forwarded: malformed
 * request lines and headers, oversized headers, request smuggling shapes, stalled clients,
 * clients that reset mid-body, and plain random bytes. After all of it the proxy still serves.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startProxy, startUpstream, send, sendRaw, seededRandom, type TestProxy, type TestUpstream } from './test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';

let app: TestUpstream;
let proxy: TestProxy;
let port: number;

before(async () => {
  app = await startUpstream('app');
  const config = proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward('c'))])] }],
    clusters: [cluster('c')],
    endpoints: [endpoints('c', [app.port])],
  });
  proxy = await startProxy(config, { bootstrap: { headersTimeoutMs: 300 } });
  port = proxy.port('gateway:80');
});

after(async () => {
  await proxy.close();
  await app.close();
});

const statusLine = (raw: string) => raw.split('\r\n')[0] ?? '';

const cases: [string, string, string][] = [
  ['both Content-Length and Transfer-Encoding (smuggling)', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', '400'],
  ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', '400'],
  ['malformed request line', 'GARBAGE\r\n\r\n', '400'],
  ['HTTP/0.9 simple request', 'GET /\r\n\r\n', '400'],
  ['HTTP/1.0 (Envoy accept_http_10 off)', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n', '426'],
  ['control byte in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad\x01: v\r\n\r\n', '400'],
  ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: v\x00x\r\n\r\n', '400'],
  ['bare CR in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: v\rx\r\n\r\n', '400'],
  ['space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', '400'],
  ['obsolete line folding', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n', '400'],
  ['no Host', 'GET / HTTP/1.1\r\n\r\n', '400'],
  ['invalid Host characters', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', '400'],
  ['Host with a bad port', 'GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n', '400'],
  ['unsupported Transfer-Encoding (Envoy: 501)', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', '501'],
  ['bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n', '400'],
  ['headers over 60 KiB', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, '431'],
  ['authority-form outside CONNECT', 'GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n', '400'],
];

test('malformed requests get Envoy-style answers and never reach the app', async () => {
  const before = app.received.length;
  for (const [name, bytes, status] of cases) {
    const raw = await sendRaw(port, bytes);
    assert.match(statusLine(raw), new RegExp(`^HTTP/1\\.1 ${status} `), `${name}: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  assert.equal(app.received.length, before, `forwarded: ${JSON.stringify(app.received.slice(before).map((r) => r.url))}`);
});

test('a client that stalls in its headers is answered 408 and closed', async () => {
  const started = Date.now();
  const raw = await sendRaw(port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ', 5000);
  assert.match(statusLine(raw), /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - started < 3000);
});

test('a client that resets mid-body does not disturb anything', async () => {
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n');
        s.write(Buffer.alloc(5000, 'x'));
        setTimeout(() => {
          s.resetAndDestroy();
          resolve();
        }, 10);
      });
      s.on('error', () => {});
    });
  }
  const ok = await send(port, { path: '/after-resets' });
  assert.equal(ok.status, 200);
});

test('random bytes: no crash, and the proxy still serves', async () => {
  const random = seededRandom(42);
  const jobs: Promise<string>[] = [];
  for (let i = 0; i < 200; i++) {
    const len = 1 + Math.floor(random() * 2000);
    const bytes = randomBytes(len);
    // Half of them start like HTTP so the parser gets past the first byte.
    const payload = i % 2 === 0 ? Buffer.concat([Buffer.from('GET /'), bytes]) : bytes;
    jobs.push(sendRaw(port, payload, 500));
  }
  const answers = await Promise.all(jobs);
  for (const a of answers) assert.ok(a === '' || /^HTTP\/1\.1 (400|404|408|413|426|431|502|503) /.test(a), JSON.stringify(a.slice(0, 60)));
  const ok = await send(port, { path: '/after-fuzz' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body, 'app');
});
