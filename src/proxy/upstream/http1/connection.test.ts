/**
 * The HTTP/1.1 client's edge cases against a scripted upstream (raw-upstream.ts): framing of both
 * bodies, trailers, 1xx, HEAD/204/304, connection reuse and close, the upstream's keep-alive
 * hint, idle timeout, aborts, and how each way of failing maps to Envoy's flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Upstreams, UpstreamError } from '../index.js';
import { assignment, cluster, endpoint, readAll } from '../fixtures.js';
import { startRawUpstream, type RawHandler } from './raw-upstream.js';

const get = (path = '/', extra: Record<string, string> = {}) => ({ method: 'GET', path, headers: { host: 'svc', ...extra }, body: null });

async function setup(t: { after(fn: () => unknown): void }, handler: RawHandler, overrides: Parameters<typeof cluster>[1] = {}) {
  const up = await startRawUpstream(handler);
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c', overrides)], [assignment('c', [endpoint(up.port)])]);
  return { up, upstreams };
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

test('content-length and chunked responses, repeated headers as arrays, hop-by-hop fields dropped, trailers', async (t) => {
  const { upstreams } = await setup(t, (s, _req, i) => {
    if (i === 0) s.write(ok('hello', 'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Mixed-Case: v \r\nConnection: x-private\r\nX-Private: 1\r\nKeep-Alive: timeout=60\r\n'));
    else s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nGrpc-Status: 0\r\ngrpc-message: fine\r\n\r\n');
  });
  const a = await upstreams.send('c', get());
  assert.equal(a.status, 200);
  assert.equal(await readAll(a.body), 'hello');
  assert.deepEqual(a.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(a.headers['x-mixed-case'], 'v');
  for (const hop of ['connection', 'x-private', 'keep-alive']) assert.equal(a.headers[hop], undefined, `${hop} is hop-by-hop`);
  assert.deepEqual(await a.trailers, {});
  const b = await upstreams.send('c', get());
  assert.equal(await readAll(b.body), 'abcde');
  assert.equal(b.headers['transfer-encoding'], undefined, 'hop-by-hop framing is not passed on');
  assert.deepEqual(await b.trailers, { 'grpc-status': '0', 'grpc-message': 'fine' });
});

test('1xx responses are skipped; HEAD, 204 and 304 have no body and keep the connection', async (t) => {
  const { up, upstreams } = await setup(t, (s, req, i) => {
    if (i === 0) s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n' + ok('after hints', 'x-final: yes\r\n'));
    else if (req.head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n');
    else if (i === 2) s.write('HTTP/1.1 204 No Content\r\n\r\n');
    else s.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\n\r\n');
  });
  const hinted = await upstreams.send('c', get());
  assert.equal(hinted.status, 200);
  assert.equal(hinted.headers['link'], undefined, 'headers of the 103 are not merged into the response');
  assert.equal(hinted.headers['x-final'], 'yes');
  assert.equal(await readAll(hinted.body), 'after hints');
  const head = await upstreams.send('c', { ...get(), method: 'HEAD' });
  assert.equal(head.headers['content-length'], '1234');
  assert.equal(await readAll(head.body), '');
  for (const status of [204, 304]) {
    const r = await upstreams.send('c', get());
    assert.equal(r.status, status);
    assert.equal(await readAll(r.body), '');
  }
  assert.equal(up.connections, 1);
});

test('Connection: close and HTTP/1.0 responses: the body may run to the close; the next request gets a new connection', async (t) => {
  const { up, upstreams } = await setup(t, (s, _req, i) => {
    if (i === 0) s.end('HTTP/1.0 200 OK\r\n\r\nuntil the end');
    else if (i === 1) s.write(ok('closing', 'Connection: close\r\n'));
    else s.write(ok('fresh'));
  });
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'until the end');
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'closing');
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'fresh');
  assert.deepEqual(up.requests.map((r) => r.connection), [0, 1, 2]);
});

test('request bodies: a Buffer by its length, a stream chunked or by its declared length, an empty POST as content-length 0', async (t) => {
  const { up, upstreams } = await setup(t, (s) => s.write(ok('ok')));
  const post = (body: Buffer | Readable | null, headers: Record<string, string> = {}) => upstreams.send('c', { method: 'POST', path: '/p', headers: { host: 'svc', ...headers }, body }).then((r) => readAll(r.body));
  await post(Buffer.from('buffered'), { 'content-length': '8' });
  await post(Readable.from([Buffer.from('str'), Buffer.from('eamed')]));
  await post(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), { 'content-length': '4' });
  await post(null);
  const [buffered, chunked, declared, empty] = up.requests;
  assert.equal(buffered?.headers['content-length'], '8');
  assert.equal(buffered?.body.toString(), 'buffered');
  assert.equal(chunked?.headers['transfer-encoding'], 'chunked');
  assert.equal(chunked?.headers['content-length'], undefined);
  assert.equal(chunked?.body.toString(), 'streamed');
  assert.equal(declared?.headers['content-length'], '4');
  assert.equal(declared?.body.toString(), 'abcd');
  assert.equal(empty?.headers['content-length'], '0');
  assert.equal(up.connections, 1);
});

test('a request whose header would split the request is refused locally and nothing reaches the upstream', async (t) => {
  const { up, upstreams } = await setup(t, (s) => s.write(ok('ok')));
  await assert.rejects(upstreams.send('c', get('/', { 'x-evil': 'a\r\nx-injected: 1' })), (err: UpstreamError) => err.flag === 'LR');
  await assert.rejects(upstreams.send('c', get('/a b')), (err: UpstreamError) => err.flag === 'LR');
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'ok');
  assert.equal(up.requests.length, 1);
});

test('an answer before the request body was all sent: the response is relayed, the connection is not reused', async (t) => {
  const early = await startEarlyResponder();
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), early.close()]));
  upstreams.apply([cluster('early')], [assignment('early', [endpoint(early.port)])]);
  // The upstream answers as soon as it has read a head; this body never ends.
  const never = new Readable({ read() {} });
  never.push('partial');
  const res = await upstreams.send('early', { method: 'POST', path: '/', headers: { host: 'svc' }, body: never });
  assert.equal(res.status, 413);
  assert.equal(await readAll(res.body), 'too big');
  while ((upstreams.snapshot()[0]?.connections ?? 0) > 0) await sleep(10);
  assert.equal(early.closed(), 1);
});

/** Answers 413 to the request head, without reading the body. */
async function startEarlyResponder() {
  let closed = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('close', () => closed++);
    s.once('data', () => s.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 7\r\n\r\ntoo big'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    closed: () => closed,
    close: () => {
      server.close();
      return Promise.resolve();
    },
  };
}

test('the upstream\'s Keep-Alive timeout shortens the idle timeout; a hint too short for reuse closes the connection', async (t) => {
  const { up, upstreams } = await setup(t, (s, _req, i) => s.write(ok(String(i), i === 0 ? 'Keep-Alive: timeout=2\r\n' : '')));
  assert.equal(await readAll((await upstreams.send('c', get())).body), '0');
  // timeout=2 leaves no time to reuse the connection safely (2 s margin): it closes at once.
  while (up.closed === 0) await sleep(5);
  assert.equal(await readAll((await upstreams.send('c', get())).body), '1');
  assert.equal(up.connections, 2);
});

test('idle connections close after the cluster\'s idle timeout', async (t) => {
  const { up, upstreams } = await setup(t, (s) => s.write(ok('ok')), { idleTimeoutMs: 100 });
  await readAll((await upstreams.send('c', get())).body);
  assert.equal(up.closed, 0);
  while (up.closed === 0) await sleep(25);
  assert.equal(upstreams.snapshot()[0]?.connections, 0);
});

test('reset before the response head: 503 UC; reset mid-body: the body errors with a connection termination', async (t) => {
  const { upstreams } = await setup(t, (s, _req, i) => {
    if (i === 0) s.destroy();
    else {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
      setTimeout(() => s.destroy(), 20);
    }
  });
  await assert.rejects(upstreams.send('c', get()), (err: UpstreamError) => err.flag === 'UC' && err.status === 503 && /reset reason: connection termination/.test(err.body));
  const res = await upstreams.send('c', get());
  await assert.rejects(readAll(res.body), (err: Error & { reason?: string }) => err.reason === 'connection termination');
});

test('malformed responses are protocol errors (502 UPE), never a crash', async (t) => {
  const bad = [
    'garbage\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd',
    'HTTP/1.1 200 OK\r\nx-bad: a\x01b\r\ncontent-length: 0\r\n\r\n',
    `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
    'HTTP/1.1 2000 OK\r\n\r\n',
  ];
  const { upstreams } = await setup(t, (s, _req, i) => s.write(bad[i] ?? ok('fine')));
  for (const response of bad) {
    await assert.rejects(upstreams.send('c', get()), (err: UpstreamError) => err.flag === 'UPE' && err.status === 502, JSON.stringify(response.slice(0, 60)));
  }
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'fine');
});

test('bytes sent on an idle connection drop it; the next request uses a new one', async (t) => {
  const { up, upstreams } = await setup(t, (s, _req, i) => {
    s.write(ok(String(i)));
    if (i === 0) setTimeout(() => s.write('HTTP/1.1 200 OK\r\n\r\n'), 10);
  });
  assert.equal(await readAll((await upstreams.send('c', get())).body), '0');
  while (up.closed === 0) await sleep(10);
  assert.equal(await readAll((await upstreams.send('c', get())).body), '1');
  assert.equal(up.connections, 2);
});

test('a downstream abort mid-response resets the upstream connection (DC), and the pool recovers', async (t) => {
  const { up, upstreams } = await setup(t, (s, _req, i) => {
    if (i === 0) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nstart');
    else s.write(ok('again'));
  });
  const controller = new AbortController();
  const res = await upstreams.send('c', get(), { signal: controller.signal });
  controller.abort();
  await assert.rejects(readAll(res.body), (err: UpstreamError) => err.flag === 'DC');
  while (up.closed === 0) await sleep(10);
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'again');
});

test('a large body streams with backpressure and arrives intact', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const { up, upstreams } = await setup(t, (s, req) => {
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\nx-got: ${req.body.length}\r\n\r\n`);
    s.write(big);
  });
  const res = await upstreams.send('c', { method: 'PUT', path: '/', headers: { host: 'svc' }, body: Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]) });
  assert.equal(res.headers['x-got'], String(big.length));
  await sleep(50); // let the socket fill while nobody reads
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(big));
  assert.equal(up.requests[0]?.body.equals(big), true);
});

test('a request body that fails, or outgrows its declared length, resets the attempt locally (LR) and the connection', async (t) => {
  const { up, upstreams } = await setup(t, (s) => s.write(ok('ok')));
  const failing = new Readable({ read() {} });
  failing.push('some');
  setTimeout(() => failing.destroy(new Error('downstream went away')), 10);
  await assert.rejects(upstreams.send('c', { method: 'POST', path: '/', headers: { host: 'svc' }, body: failing }), (err: UpstreamError) => err.flag === 'LR');
  const tooLong = Readable.from([Buffer.from('abcdef')]);
  await assert.rejects(upstreams.send('c', { method: 'POST', path: '/', headers: { host: 'svc', 'content-length': '3' }, body: tooLong }), (err: UpstreamError) => err.flag === 'LR');
  assert.equal(await readAll((await upstreams.send('c', get())).body), 'ok');
  assert.equal(up.requests.length, 1, 'no partial request was answered');
  assert.equal(up.connections, 3);
});
