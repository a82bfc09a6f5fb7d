/**
 * Istio's TCP metadata exchange framing: a frame round-trips, arrives in pieces, is told apart
 * from an app's bytes (bad magic, oversized), and two real sockets exchange frames and keep what
 * followed; a silent peer is given up on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { ProxyNode } from '../../proxy-config/index.js';
import { decodeStruct } from '../http/peer-metadata.js';
import { EXCHANGE_MAGIC, MAX_FRAME_BYTES, exchangeMetadata, localExchangeFrame, readFrame } from './tcp-exchange.js';

function node(workload: string, app: string): ProxyNode {
  return { id: `${workload}-abc.default`, role: 'sidecar', namespace: 'default', workload, labels: { app, version: 'v1' }, serviceAccount: workload, ip: '10.0.0.1', revision: '' };
}

test('a frame: magic, length, then an Any of the exchange Struct, read back to the workload', () => {
  const frame = localExchangeFrame(node('kafka-client', 'kafka-client'));
  assert.equal(frame.readUInt32BE(0), EXCHANGE_MAGIC);
  assert.equal(frame.readUInt32BE(4), frame.length - 8);
  assert.ok(frame.subarray(8).includes(Buffer.from('type.googleapis.com/google.protobuf.Struct')));
  const read = readFrame(Buffer.concat([frame, Buffer.from('app bytes')]));
  assert.equal(read.kind, 'frame');
  if (read.kind !== 'frame') return;
  assert.equal(read.peer?.workload, 'kafka-client');
  assert.equal(read.peer?.namespace, 'default');
  assert.equal(read.peer?.app, 'kafka-client');
  assert.equal(read.peer?.version, 'v1');
  assert.equal(read.peer?.name, 'kafka-client-abc');
  assert.equal(read.rest.toString(), 'app bytes');
});

test('the payload Struct holds x-envoy-peer-metadata and -id, as Istio writes it', () => {
  const frame = localExchangeFrame(node('kafka', 'kafka'));
  // Any { type_url = 1, value = 2 }: skip type_url (tag, length, bytes) to reach the value.
  const any = frame.subarray(8);
  const urlLen = any[1] ?? 0;
  const valueStart = 2 + urlLen;
  assert.equal(any[valueStart], (2 << 3) | 2);
  let pos = valueStart + 1;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    const b = any[pos++] ?? 0;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  const outer = decodeStruct(any.subarray(pos, pos + len));
  assert.deepEqual(Object.keys(outer).sort(), ['x-envoy-peer-metadata', 'x-envoy-peer-metadata-id']);
  assert.match(String(outer['x-envoy-peer-metadata-id']), /^sidecar~/);
});

test('a frame in pieces needs more until whole; every split gives the same peer', () => {
  const frame = localExchangeFrame(node('reviews-v1', 'reviews'));
  for (let i = 1; i < frame.length; i++) assert.equal(readFrame(frame.subarray(0, i)).kind, 'need-more', `prefix ${i}`);
  const whole = readFrame(frame);
  assert.equal(whole.kind === 'frame' && whole.peer?.workload, 'reviews-v1');
});

test('bytes without the magic, or an oversized frame, are the app\'s: no metadata, nothing stripped', () => {
  const plain = Buffer.from('GET / HTTP/1.1\r\n');
  assert.deepEqual(readFrame(plain), { kind: 'none', rest: plain });
  const nearly = Buffer.from([0x3d, 0x23, 0x04, 0x00]);
  assert.equal(readFrame(nearly).kind, 'none');
  const big = Buffer.alloc(16);
  big.writeUInt32BE(EXCHANGE_MAGIC, 0);
  big.writeUInt32BE(MAX_FRAME_BYTES + 1, 4);
  assert.deepEqual(readFrame(big), { kind: 'none', rest: big });
});

test('a frame of garbage is stripped but names no peer', () => {
  const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99]);
  const frame = Buffer.alloc(8);
  frame.writeUInt32BE(EXCHANGE_MAGIC, 0);
  frame.writeUInt32BE(junk.length, 4);
  const read = readFrame(Buffer.concat([frame, junk, Buffer.from('x')]));
  assert.equal(read.kind, 'frame');
  assert.equal(read.kind === 'frame' && read.peer, undefined);
  assert.equal(read.kind === 'frame' && read.rest.toString(), 'x');
});

async function socketPair(t: { after(fn: () => void): void }): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  const srv = await accepted;
  t.after(() => {
    client.destroy();
    srv.destroy();
    server.close();
  });
  return [client, srv];
}

function readAll(s: net.Socket, n: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= n) resolve(got);
    });
    s.resume();
  });
}

test('two sockets exchange frames, each learns the other, and the app bytes after them arrive intact', async (t) => {
  const [client, server] = await socketPair(t);
  // The client's app data follows its frame in the same write, as a fast sender's would.
  const clientSide = exchangeMetadata(client, node('kafka-client', 'kafka-client'), 'client', 5_000);
  client.write('hello');
  const [serverPeer, clientPeer] = await Promise.all([exchangeMetadata(server, node('kafka', 'kafka'), 'server', 5_000), clientSide]);
  assert.equal(serverPeer?.workload, 'kafka-client');
  assert.equal(clientPeer?.workload, 'kafka');
  const received = readAll(server, 5);
  assert.equal(await received, 'hello');
});

test('a peer that sends no frame is given up on after the timeout; its later bytes are relayed', async (t) => {
  const [client, server] = await socketPair(t);
  const peer = await exchangeMetadata(server, node('kafka', 'kafka'), 'server', 50);
  assert.equal(peer, undefined);
  const got = readAll(server, 4);
  client.write('late');
  assert.equal(await got, 'late');
});

test('a peer that speaks first without a frame keeps its bytes and gets no frame back', async (t) => {
  const [client, server] = await socketPair(t);
  client.write('SSH-2.0-x\r\n');
  const peer = await exchangeMetadata(server, node('kafka', 'kafka'), 'server', 5_000);
  assert.equal(peer, undefined);
  assert.equal(await readAll(server, 11), 'SSH-2.0-x\r\n');
  // The server answers a client without a frame with nothing of its own: the app's bytes come first.
  const reply = readAll(client, 2);
  server.write('ok');
  assert.equal(await reply, 'ok');
});
