/**
 * The framing must survive any split TCP and HTTP/2 choose, refuse oversize frames before
 * buffering them, and fail only with ProtocolError on garbage. Fuzzed with a seeded generator so
 * a failure reproduces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeFrame, FrameDecoder, frameJson, parseClientMessage, parseServerMessage, ProtocolError, type ClientMessage,
} from './protocol.js';
import { node } from './testing.js';

/** mulberry32: a tiny seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomMessage(random: () => number, i: number): ClientMessage {
  const text = (n: number): string => Array.from({ length: n }, () => String.fromCodePoint(32 + Math.floor(random() * 0x2000))).join('');
  switch (i % 3) {
    case 0:
      return { type: 'hello', node: node(`pod-${i}.ns`, { app: text(5) }), token: text(20), lastVersion: text(16) };
    case 1:
      return { type: 'ack', version: text(16), nonce: String(i) };
    default:
      return { type: 'nack', version: text(16), nonce: String(i), error: text(Math.floor(random() * 3000)) };
  }
}

/** Cuts bytes into pieces of 0..max bytes (empty pieces included: they must be harmless). */
function split(bytes: Buffer, random: () => number, max: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = Math.floor(random() * (max + 1));
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

test('frames survive every split: single bytes, small and large random pieces', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = prng(seed);
    const messages = Array.from({ length: 30 }, (_, i) => randomMessage(random, i));
    const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));
    const decoder = new FrameDecoder();
    const decoded: unknown[] = [];
    for (const piece of split(stream, random, [1, 7, 600, 70_000][seed % 4] ?? 1)) decoded.push(...decoder.push(piece));
    assert.deepEqual(decoded.map(parseClientMessage), messages, `seed ${seed}`);
    assert.equal(decoder.buffered, 0);
  }
});

test('a frame split inside its length header, and a 5 MB frame in 16 KB chunks', () => {
  const decoder = new FrameDecoder();
  const frame = encodeFrame({ type: 'ack', version: 'v1', nonce: '1' });
  assert.deepEqual(decoder.push(frame.subarray(0, 2)), []);
  assert.deepEqual(decoder.push(frame.subarray(2, 3)), []);
  assert.deepEqual(decoder.push(frame.subarray(3)), [{ type: 'ack', version: 'v1', nonce: '1' }]);

  const big = frameJson(JSON.stringify({ type: 'ack', version: 'x'.repeat(5_000_000), nonce: '2' }));
  const values: unknown[] = [];
  for (let at = 0; at < big.length; at += 16_384) values.push(...decoder.push(big.subarray(at, at + 16_384)));
  assert.equal(values.length, 1);
});

test('an oversize frame is refused from its header alone, and the decoder stays failed', () => {
  const decoder = new FrameDecoder(1024);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(1025);
  assert.throws(() => decoder.push(header), (e) => e instanceof ProtocolError && e.code === 'WEFT_FRAME_TOO_LARGE');
  assert.equal(decoder.buffered, 0, 'nothing of it was kept');
  assert.throws(() => decoder.push(encodeFrame({ type: 'ack', version: 'v', nonce: 'n' })), ProtocolError);

  // Exactly the limit is fine; the sender refuses to build what the receiver would refuse.
  const prefix = '{"type":"ack","nonce":"","version":"';
  const atLimit = `${prefix}${'v'.repeat(1024 - prefix.length - 2)}"}`;
  assert.equal(Buffer.byteLength(atLimit), 1024);
  assert.equal(new FrameDecoder(1024).push(frameJson(atLimit, 1024)).length, 1);
  assert.throws(() => frameJson(atLimit + ' ', 1024), (e) => e instanceof ProtocolError && e.code === 'WEFT_FRAME_TOO_LARGE');
});

test('garbage fails with ProtocolError and nothing else, whatever the bytes', () => {
  let failures = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const random = prng(seed);
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    // Small length headers make the garbage reach the JSON parser, not just the size check.
    if (seed % 2 === 0 && bytes.length >= 4) bytes.writeUInt32BE(Math.min(bytes.length - 4, Math.floor(random() * 64)) >>> 0, 0);
    const decoder = new FrameDecoder(4096);
    try {
      for (const piece of split(bytes, random, 9)) for (const value of decoder.push(piece)) parseClientMessage(value);
    } catch (error) {
      assert.ok(error instanceof ProtocolError, `seed ${seed}: ${String(error)}`);
      failures++;
    }
  }
  assert.ok(failures > 100, `most garbage is refused (${failures})`);
});

test('messages are checked field by field', () => {
  const bad = (value: unknown, pattern: RegExp): void =>
    assert.throws(() => parseClientMessage(value), (e) => e instanceof ProtocolError && e.code === 'WEFT_BAD_MESSAGE' && pattern.test(e.message));
  bad([], /JSON object/);
  bad({ type: 'subscribe' }, /unknown message type "subscribe"/);
  bad({ type: 'hello', node: { ...node('a.b'), id: '' }, token: 't' }, /node must be a ProxyNode/);
  bad({ type: 'hello', node: { ...node('a.b'), role: 'router' }, token: 't' }, /node must be a ProxyNode/);
  bad({ type: 'hello', node: node('a.b') }, /hello message: token must be a string/);
  bad({ type: 'hello', node: node('a.b'), token: 't', prometheusPort: 70000 }, /hello message: prometheusPort must be a port number/);
  bad({ type: 'hello', node: node('a.b'), token: 't', prometheusPort: '15090' }, /hello message: prometheusPort must be a port number/);
  assert.equal((parseClientMessage({ type: 'hello', node: node('a.b'), token: 't', prometheusPort: 15090 }) as { prometheusPort?: number }).prometheusPort, 15090);
  bad({ type: 'ack', version: 1, nonce: '1' }, /ack message: version must be a string/);
  bad({ type: 'nack', version: 'v', nonce: '1' }, /nack message: error must be a string/);
  assert.deepEqual(parseClientMessage({ type: 'ack', version: 'v', nonce: '1', extra: true }), { type: 'ack', version: 'v', nonce: '1' });
  assert.throws(() => parseServerMessage({ type: 'config', version: 'v2', nonce: '1', config: { version: 'v1' } }), /same version/);
});

test('certificate messages: csr needs a request id and a PEM; a certificate carries a chain and bundle, or an error', () => {
  assert.deepEqual(parseClientMessage({ type: 'csr', requestId: '7', csr: 'PEM' }), { type: 'csr', requestId: '7', csr: 'PEM' });
  assert.throws(() => parseClientMessage({ type: 'csr', requestId: '7' }), /csr message: csr must be a string/);
  assert.deepEqual(parseServerMessage({ type: 'certificate', requestId: '7', certificateChain: 'C', trustBundle: 'R' }),
    { type: 'certificate', requestId: '7', certificateChain: 'C', trustBundle: 'R' });
  assert.deepEqual(parseServerMessage({ type: 'certificate', requestId: '7', error: 'no' }), { type: 'certificate', requestId: '7', error: 'no' });
  assert.throws(() => parseServerMessage({ type: 'certificate', requestId: '7', certificateChain: 'C' }), /certificate message: trustBundle must be a string/);
});
