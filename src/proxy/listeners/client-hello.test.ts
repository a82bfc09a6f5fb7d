import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { parseClientHello, MAX_CLIENT_HELLO_BYTES } from './client-hello.js';
import { inspectBytes } from './inspect.js';

/** The first bytes a real TLS client (node's) sends, captured by a plain TCP server. */
async function captureClientHello(opts: { servername?: string; alpn?: string[] }): Promise<Buffer> {
  const server = net.createServer();
  const captured = new Promise<Buffer>((resolve) => {
    server.once('connection', (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 5 && all.length >= 5 + all.readUInt16BE(3)) {
          socket.destroy();
          resolve(all);
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  const client = tls.connect({ host: '127.0.0.1', port, servername: opts.servername, ALPNProtocols: opts.alpn, rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await captured;
  client.destroy();
  server.close();
  return hello;
}

test('reads SNI and ALPN from a real ClientHello', async () => {
  const hello = await captureClientHello({ servername: 'Reviews.Example.COM', alpn: ['h2', 'http/1.1'] });
  const r = parseClientHello(hello);
  assert.deepEqual(r, { kind: 'hello', serverName: 'reviews.example.com', alpn: ['h2', 'http/1.1'] });
});

test('a ClientHello without SNI (connecting by IP) has no server name', async () => {
  const hello = await captureClientHello({});
  const r = parseClientHello(hello);
  assert.equal(r.kind, 'hello');
  assert.equal(r.kind === 'hello' ? r.serverName : 'x', undefined);
});

test('asks for more bytes until the whole handshake message is there, across records', async () => {
  const hello = await captureClientHello({ servername: 'split.example.com' });
  for (let cut = 1; cut < hello.length; cut += 37) assert.equal(parseClientHello(hello.subarray(0, cut)).kind, 'need-more', `cut at ${cut}`);
  // Split the one handshake record into two records, as a client with a huge hello would.
  const body = hello.subarray(5);
  const half = Math.floor(body.length / 2);
  const record = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 3, 1, b.length >> 8, b.length & 0xff]), b]);
  const fragmented = Buffer.concat([record(body.subarray(0, half)), record(body.subarray(half))]);
  assert.deepEqual(parseClientHello(fragmented), { kind: 'hello', serverName: 'split.example.com', alpn: [] });
});

test('cleartext is not TLS; HTTP/2 preface is recognised only once complete', () => {
  assert.deepEqual(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'not-tls' });
  assert.equal(inspectBytes(Buffer.from('PRI * HT')).done, false);
  const h2 = inspectBytes(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'));
  assert.ok(h2.done && h2.inspection.h2Preface && h2.inspection.transport === 'raw_buffer');
  const h1 = inspectBytes(Buffer.from('POST /x'));
  assert.ok(h1.done && !h1.inspection.h2Preface);
});

test('random and truncated bytes never throw and never hang', () => {
  for (let i = 0; i < 5000; i++) {
    const buf = randomBytes(1 + (i % 300));
    if (i % 2 === 0) buf[0] = 0x16;
    if (i % 4 === 0) buf[1] = 3;
    const r = parseClientHello(buf);
    assert.ok(['hello', 'need-more', 'not-tls', 'malformed'].includes(r.kind));
  }
  const huge = Buffer.alloc(MAX_CLIENT_HELLO_BYTES + 10);
  huge.set([0x16, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff]);
  assert.equal(parseClientHello(huge).kind, 'malformed');
});
