/**
 * `completeBody`: a small response whose body came with its head is handed over whole, and
 * everything else still streams. The scripted upstream (raw-upstream.ts) decides exactly which
 * bytes arrive before the response is handed over: a body held back until the test releases it
 * cannot have arrived, so these tests need no timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Upstreams } from '../index.js';
import { assignment, cluster, endpoint, readAll } from '../fixtures.js';
import { startRawUpstream, type RawHandler } from './raw-upstream.js';

const get = (method = 'GET') => ({ method, path: '/', headers: { host: 'svc' }, body: null });

async function setup(t: { after(fn: () => unknown): void }, handler: RawHandler) {
  const up = await startRawUpstream(handler);
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c')], [assignment('c', [endpoint(up.port)])]);
  return { up, upstreams };
}

const activeRequests = (upstreams: Upstreams): number | undefined => upstreams.snapshot()[0]?.endpoints[0]?.activeRequests;

test('a small body that came with its head is handed over whole; body, trailers and the connection still work', async (t) => {
  const { up, upstreams } = await setup(t, (s, _req, i) => s.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\nx-i: ${i}\r\n\r\nhello${i}`));
  const first = await upstreams.send('c', get());
  assert.equal(first.completeBody?.toString(), 'hello0');
  assert.equal(activeRequests(upstreams), 0, 'the attempt is over once the body is whole');
  const second = await upstreams.send('c', get());
  assert.equal(second.completeBody?.toString(), 'hello1');
  assert.equal(await readAll(second.body), 'hello1', 'the stream, made on demand, carries the same bytes');
  assert.equal(second.completeBody, undefined, 'once the stream is made it owns the body');
  assert.deepEqual(await second.trailers, {});
  assert.equal(up.connections, 1);
});

test('HEAD, 204 and 304 hand over an empty whole body', async (t) => {
  const { upstreams } = await setup(t, (s, _req, i) => {
    if (i === 0) s.write('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n');
    else if (i === 1) s.write('HTTP/1.1 204 No Content\r\n\r\n');
    else s.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\n\r\n');
  });
  const head = await upstreams.send('c', get('HEAD'));
  assert.equal(head.headers['content-length'], '1234');
  assert.equal(head.completeBody?.length, 0);
  for (const status of [204, 304]) {
    const r = await upstreams.send('c', get());
    assert.equal(r.status, status);
    assert.equal(r.completeBody?.length, 0);
  }
});

test('a body still on its way, a chunked one, and one over 16 KiB stream instead', async (t) => {
  const held: net.Socket[] = [];
  const big = 'b'.repeat(16 * 1024 + 1);
  const { upstreams } = await setup(t, (s, _req, i) => {
    if (i === 0) {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n');
      held.push(s);
    } else if (i === 1) s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    else s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${big.length}\r\n\r\n${big}`);
  });
  const late = await upstreams.send('c', get());
  assert.equal(late.completeBody, undefined, 'the body has not been sent yet');
  const reading = readAll(late.body);
  held[0]?.write('later');
  assert.equal(await reading, 'later');
  const chunked = await upstreams.send('c', get());
  assert.equal(chunked.completeBody, undefined);
  assert.equal(await readAll(chunked.body), 'abc');
  const large = await upstreams.send('c', get());
  assert.equal(large.completeBody, undefined);
  assert.equal((await readAll(large.body)).length, big.length);
});

test('a body cut before it is whole is never handed over whole; its stream errors with a connection termination', async (t) => {
  const { up, upstreams } = await setup(t, (s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
    setImmediate(() => s.destroy());
  });
  const res = await upstreams.send('c', get());
  // The stream is made only after the reset: it still reports it.
  while (up.closed === 0 || activeRequests(upstreams) !== 0) await sleep(5);
  assert.equal(res.completeBody, undefined);
  await assert.rejects(readAll(res.body), (err: Error & { reason?: string }) => err.reason === 'connection termination');
});

test('a retried response that came whole is dropped without a stream; the retry answers', async (t) => {
  const { up, upstreams } = await setup(t, (s, _req, i) => s.write(i === 0 ? 'HTTP/1.1 503 Unavailable\r\ncontent-length: 4\r\n\r\nbusy' : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
  const res = await upstreams.send('c', get(), { retry: { attempts: 1, retryOn: ['5xx'], retriableStatusCodes: [], ignorePreviousHosts: false, backoffBaseMs: 1 } });
  assert.equal(res.status, 200);
  assert.equal(res.attempts, 2);
  assert.equal(res.completeBody?.toString(), 'ok');
  assert.equal(activeRequests(upstreams), 0);
  assert.equal(up.connections, 1, 'the first response completed, so its connection was reused');
});
