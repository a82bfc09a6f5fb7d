/**
 * HTTP/2 (h2c) clusters, as gRPC uses them: trailers pass through, streams share a connection,
 * and gRPC statuses and refused streams drive retries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { RetryPolicy } from '../../proxy-config/index.js';
import { Upstreams, UpstreamError } from './index.js';
import { assignment, cluster, readAll, startH2Upstream } from './fixtures.js';

const grpcCall = {
  method: 'POST',
  path: '/helloworld.Greeter/SayHello',
  headers: { host: 'greeter:50051', 'content-type': 'application/grpc', te: 'trailers' },
  body: Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]),
};
const retry = (retryOn: string[]): RetryPolicy => ({ attempts: 2, retryOn, retriableStatusCodes: [], ignorePreviousHosts: true, backoffBaseMs: 25 });

test('gRPC over h2c: body and trailers (grpc-status) reach the caller', async (t) => {
  const up = await startH2Upstream('greeter', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
    stream.end(Buffer.from([0, 0, 0, 0, 2, 9, 9]));
  });
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), up.close()]));
  u.apply([cluster('outbound|50051||greeter', { protocol: 'http2' })], [assignment('outbound|50051||greeter', [up.endpoint()])]);
  const res = await u.send('outbound|50051||greeter', grpcCall);
  assert.equal(res.status, 200);
  assert.equal(res.protocol, 'http2');
  assert.equal(res.headers['content-type'], 'application/grpc');
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  assert.deepEqual([...Buffer.concat(chunks)], [0, 0, 0, 0, 2, 9, 9]);
  assert.deepEqual(await res.trailers, { 'grpc-status': '0', 'grpc-message': 'OK' });
  const seen = up.requests[0];
  assert.equal(seen?.headers[':authority'], 'greeter:50051');
  assert.equal(seen?.headers['te'], 'trailers');
  assert.deepEqual([...Buffer.from(seen?.body ?? '')], [0, 0, 0, 0, 3, 1, 2, 3]);
});

test('concurrent requests share one HTTP/2 connection', async (t) => {
  const sessions = new Set<unknown>();
  const up = await startH2Upstream('mux', (stream) => {
    sessions.add(stream.session);
    setTimeout(() => {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    }, 10);
  });
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), up.close()]));
  u.apply([cluster('c', { protocol: 'http2' })], [assignment('c', [up.endpoint()])]);
  const bodies = await Promise.all(Array.from({ length: 20 }, async () => readAll((await u.send('c', grpcCall)).body)));
  assert.ok(bodies.every((b) => b === 'ok'));
  assert.equal(sessions.size, 1);
  assert.equal(u.snapshot()[0]?.connections, 1);
});

test('a trailers-only UNAVAILABLE is retried under retryOn unavailable', async (t) => {
  let calls = 0;
  const up = await startH2Upstream('flaky', (stream) => {
    if (calls++ === 0) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
    } else {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end();
    }
  });
  const u = new Upstreams({ random: () => 0 });
  t.after(() => Promise.all([u.close(), up.close()]));
  u.apply([cluster('c', { protocol: 'http2' })], [assignment('c', [up.endpoint()])]);
  const res = await u.send('c', grpcCall, { retry: retry(['unavailable']) });
  await readAll(res.body);
  assert.equal(res.attempts, 2);
  assert.deepEqual(await res.trailers, { 'grpc-status': '0' });
});

test('a refused stream is retried under refused-stream; a plain reset is UR', async (t) => {
  let calls = 0;
  const up = await startH2Upstream('refusing', (stream) => {
    if (calls++ === 0) stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    else {
      stream.respond({ ':status': 200 });
      stream.end('second');
    }
  });
  const resetting = await startH2Upstream('resetting', (stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  const u = new Upstreams({ random: () => 0 });
  t.after(() => Promise.all([u.close(), up.close(), resetting.close()]));
  u.apply([cluster('c', { protocol: 'http2' }), cluster('r', { protocol: 'http2' })], [assignment('c', [up.endpoint()]), assignment('r', [resetting.endpoint()])]);
  const res = await u.send('c', grpcCall, { retry: retry(['refused-stream']) });
  assert.equal(await readAll(res.body), 'second');
  assert.equal(res.attempts, 2);
  await assert.rejects(u.send('r', grpcCall, { retry: retry(['refused-stream']) }), (err: UpstreamError) => {
    assert.deepEqual(err.flags, ['UR']);
    assert.equal(err.body, 'upstream connect error or disconnect/reset before headers. reset reason: remote reset');
    return true;
  });
});

test("protocol auto follows the downstream: HTTP/2 only when the caller says so", async (t) => {
  const up = await startH2Upstream('h2only', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end('h2');
  });
  const u = new Upstreams();
  t.after(() => Promise.all([u.close(), up.close()]));
  u.apply([cluster('c', { protocol: 'auto' })], [assignment('c', [up.endpoint()])]);
  const res = await u.send('c', { ...grpcCall, headers: { host: 'x' } }, { http2: true });
  assert.equal(await readAll(res.body), 'h2');
  // An HTTP/1.1 request to an h2c-only server fails before headers rather than hanging or crashing.
  await assert.rejects(u.send('c', { ...grpcCall, headers: { host: 'x' } }), (err: UpstreamError) => err.status >= 500);
});
