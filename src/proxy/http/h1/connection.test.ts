/**
 * The downstream HTTP/1.1 codec on real sockets, without the proxy around it: a net.Server hands
 * its connections to an Http1Server whose hooks answer from the request they got, and a raw
 * client writes exact bytes and reads exact bytes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Http1Server } from './server.js';
import type { Http1Request } from './request.js';
import type { Http1Response } from './response.js';
import type { ConnectionContext } from '../../listeners/connection.js';
import { requestHeaderMap } from './headers.js';
import { seededRandom } from '../../../lib/random.js';

const CONN: ConnectionContext = {
  binding: { kind: 'gateway', port: 80 },
  transport: 'raw_buffer',
  serverName: undefined,
  alpn: undefined,
  scheme: 'http',
  remoteAddress: '127.0.0.1',
  localAddress: '',
  tls: undefined,
  peerPrincipal: undefined,
  clientCertDetails: undefined,
  inFlight: 0,
  protocolError: undefined,
  memo: undefined,
};

type Answer = (req: Http1Request, res: Http1Response) => void;

async function start(t: { after(fn: () => unknown): void }, answer: Answer, limits = { maxHeaderBytes: 0, headersTimeoutMs: 10_000, idleTimeoutMs: 10_000 }) {
  const seen: Http1Request[] = [];
  const upgrades: { req: Http1Request; head: Buffer; socket: net.Socket }[] = [];
  let protocolErrors = 0;
  const codec = new Http1Server(
    {
      request: (conn, req, res) => {
        seen.push(req);
        conn.inFlight++;
        res.once('close', () => conn.inFlight--);
        answer(req, res);
      },
      upgrade: (_conn, req, socket, head) => {
        upgrades.push({ req, head, socket });
        socket.end('upgraded\n');
      },
      connect: (_conn, req, socket, head) => upgrades.push({ req, head, socket }),
      protocolError: () => protocolErrors++,
    },
    limits,
  );
  const server = net.createServer({ allowHalfOpen: true }, (socket) => codec.serve(socket, { ...CONN }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  t.after(() => {
    codec.close();
    server.close();
  });
  return { port, seen, upgrades, codec, protocolErrors: () => protocolErrors };
}

/** Writes `bytes`, then reads until the server closes or `until` matches what arrived. */
function exchange(port: number, bytes: string | string[], until?: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      s.destroy();
      resolve({ text, closed });
    };
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (until?.(text)) done(false);
    });
    s.on('close', () => done(true));
    s.on('error', reject);
    s.on('connect', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) s.write(b);
    });
  });
}

const echoPath: Answer = (req, res) => {
  const body = `${req.method} ${req.url}`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
  res.end(body);
};

test('pipelined requests in one write are answered in order on the same connection', async (t) => {
  const { port, seen } = await start(t, (req, res) => {
    // The first answers last: order must still hold.
    setTimeout(() => echoPath(req, res), req.url === '/a' ? 30 : 0);
  });
  const reqs = ['/a', '/b', '/c'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
  const { text } = await exchange(port, reqs, (t) => t.includes('GET /c'));
  const bodies = [...text.matchAll(/GET \/[abc]/g)].map((m) => m[0]);
  assert.deepEqual(bodies, ['GET /a', 'GET /b', 'GET /c']);
  assert.equal(seen.length, 3);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\ndate: /);
  assert.doesNotMatch(text, /connection: close/);
});

test('headers keep node:http semantics: repeats joined, first wins, set-cookie listed, names lower-cased', () => {
  const h = requestHeaderMap(['Host', 'a', 'HOST', 'b', 'X-A', '1', 'x-a', '2', 'Cookie', 'c=1', 'cookie', 'd=2', 'Set-Cookie', 's1', 'set-cookie', 's2', '__proto__', 'x']);
  assert.equal(h.host, 'a');
  assert.equal(h['x-a'], '1, 2');
  assert.equal(h.cookie, 'c=1; d=2');
  assert.deepEqual(h['set-cookie'], ['s1', 's2']);
  assert.equal(Object.getPrototypeOf(h), Object.prototype);
});

test('a request body streams to the handler; chunked responses carry their trailers', async (t) => {
  const { port } = await start(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(Buffer.concat(chunks));
      res.addTrailers({ 'x-sum': String(Buffer.concat(chunks).length) });
      res.end('!');
    });
  });
  const { text } = await exchange(port, ['POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', '6\r\n world\r\n0\r\n\r\n'], (t) => t.endsWith('\r\n\r\n') && t.includes('x-sum'));
  assert.match(text, /transfer-encoding: chunked\r\n/);
  assert.match(text, /\r\n\r\nb\r\nhello world\r\n1\r\n!\r\n0\r\nx-sum: 11\r\n\r\n$/);
});

test('Connection: close, HEAD and 204: the response framing a client relies on', async (t) => {
  const { port } = await start(t, (req, res) => {
    if (req.url === '/none') return void res.writeHead(204, {}).end();
    res.writeHead(200, { 'content-length': '5' });
    res.end('hello');
  });
  const closed = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.ok(closed.closed);
  assert.match(closed.text, /connection: close\r\n\r\nhello$/);
  const head = await exchange(port, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\n', (t) => t.includes(' 204 '));
  assert.match(head.text, /content-length: 5\r\n/);
  assert.doesNotMatch(head.text, /hello/);
  await new Promise((r) => setTimeout(r, 20));
  const noBody = await exchange(port, 'GET /none HTTP/1.1\r\nHost: x\r\n\r\n', (t) => t.endsWith('\r\n\r\n'));
  assert.doesNotMatch(noBody.text, /transfer-encoding/);
});

test('Expect: 100-continue is granted before the body; another expectation is 417', async (t) => {
  const { port, seen } = await start(t, (req, res) => {
    req.resume();
    req.on('end', () => echoPath(req, res));
  });
  const cont = await exchange(port, 'PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', (t) => t.includes('100 Continue'));
  assert.match(cont.text, /^HTTP\/1\.1 100 Continue\r\n\r\n/);
  const other = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n', (t) => t.endsWith('\r\n\r\n'));
  assert.match(other.text, /^HTTP\/1\.1 417 /);
  assert.equal(seen.filter((r) => r.url === '/').length, 0);
});

test('malformed input: 400, 431 over the header limit, smuggling refused; the handler never sees it', async (t) => {
  const { port, seen, protocolErrors } = await start(t, echoPath, { maxHeaderBytes: 1024, headersTimeoutMs: 10_000, idleTimeoutMs: 10_000 });
  const bad = await exchange(port, 'GET / HTTP/1.1\r\nHo st: x\r\n\r\n');
  assert.match(bad.text, /^HTTP\/1\.1 400 /);
  const big = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
  assert.match(big.text, /^HTTP\/1\.1 431 /);
  const smuggle = await exchange(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(smuggle.text, /^HTTP\/1\.1 400 /);
  assert.ok(bad.closed && big.closed && smuggle.closed);
  assert.equal(seen.length, 0);
  assert.equal(protocolErrors(), 3);
});

test('timeouts: a stalled head gets 408; an idle keep-alive connection is closed', async (t) => {
  const { port } = await start(t, echoPath, { maxHeaderBytes: 0, headersTimeoutMs: 100, idleTimeoutMs: 100 });
  const stalled = await exchange(port, 'GET / HTTP/1.1\r\nHost:');
  assert.match(stalled.text, /^HTTP\/1\.1 408 /);
  const idle = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(idle.closed);
  assert.match(idle.text, /^HTTP\/1\.1 200 /);
});

test('a response header node:http would refuse throws and writes nothing', async (t) => {
  let thrown: unknown;
  const { port } = await start(t, (_req, res) => {
    try {
      res.writeHead(200, { 'x-bad': 'a\r\nInjected: 1' });
    } catch (err) {
      thrown = err;
    }
    res.destroy();
  });
  const reply = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(reply.text, '');
  assert.match(String(thrown), /Invalid character in header content/);
});

test('WebSocket upgrade and CONNECT hand over the socket with the bytes after the head', async (t) => {
  const { port, upgrades } = await start(t, echoPath);
  const ws = await exchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nearly');
  assert.equal(ws.text, 'upgraded\n');
  assert.equal(upgrades[0]?.head.toString(), 'early');
  const conn = exchange(port, 'CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\nhello');
  await new Promise((r) => setTimeout(r, 50));
  const tunnel = upgrades[1];
  assert.equal(tunnel?.req.url, 'db:5432');
  assert.equal(tunnel?.head.toString(), 'hello');
  tunnel?.socket.end('bye');
  assert.equal((await conn).text, 'bye');
});

test('drain: idle connections close at once, a busy one after its response', async (t) => {
  let release: () => void = () => {};
  const { port, codec } = await start(t, (req, res) => {
    release = () => echoPath(req, res);
  });
  const idle = net.connect(port, '127.0.0.1');
  const idleClosed = new Promise((r) => idle.on('close', r));
  idle.on('error', () => {});
  await new Promise((r) => idle.on('connect', r));
  const busy = exchange(port, 'GET /busy HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  codec.closeIdleConnections();
  await idleClosed;
  release();
  const reply = await busy;
  assert.ok(reply.closed);
  assert.match(reply.text, /GET \/busy$/);
});

test('any split of pipelined requests with bodies (length and chunked) gives every answer, in order', async (t) => {
  // Each answer echoes the request's method, path and body, read as a stream (which pauses and
  // resumes the socket when the body outgrows the buffer).
  const { port } = await start(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = `${req.method} ${req.url} ${Buffer.concat(chunks).length} ${Buffer.concat(chunks).subarray(0, 8).toString()}|`;
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
  });
  const random = seededRandom(7);
  for (let round = 0; round < 12; round++) {
    const expected: string[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      const size = [0, 5, 300, 70_000][Math.floor(random() * 4)] as number;
      const body = Buffer.alloc(size, String.fromCharCode(97 + i));
      const path = `/r${round}-${i}`;
      if (size > 0 && random() < 0.5) {
        const half = Math.floor(size / 2);
        parts.push(Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n`), body.subarray(0, half), Buffer.from(`\r\n${(size - half).toString(16)}\r\n`), body.subarray(half), Buffer.from('\r\n0\r\n\r\n'));
      } else {
        parts.push(Buffer.from(`${size > 0 ? 'POST' : 'GET'} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`), body);
      }
      expected.push(`${size > 0 ? 'POST' : 'GET'} ${path} ${size} ${body.subarray(0, 8).toString()}|`);
    }
    const all = Buffer.concat(parts);
    // Cut the byte stream at random places: heads, chunk sizes and bodies all get split.
    const pieces: Buffer[] = [];
    for (let at = 0; at < all.length; ) {
      const n = 1 + Math.floor(random() * (random() < 0.5 ? 40 : 20_000));
      pieces.push(all.subarray(at, at + n));
      at += n;
    }
    const last = expected[expected.length - 1] as string;
    const { text } = await exchange(port, pieces.map((p) => p.toString('latin1')), (got) => got.endsWith(last));
    const answers = text.split(/HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\n/).filter((a) => a !== '');
    assert.deepEqual(answers, expected, `round ${round}`);
  }
});
