/**
 * Gateway listeners beyond plain HTTP: TCP filter chains, TLS passed through by SNI, TLS
 * terminated with the config's secrets, WebSocket upgrades, and HTTP/2 cleartext with gRPC
 * trailers end to end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import http2 from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilterChain, Listener } from '../../proxy-config/index.js';
import { startProxy, startUpstream, type TestProxy, type TestUpstream } from '../test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../test-config.js';

let web: TestUpstream;
let tlsBackend: tls.Server, wsBackend: http.Server, grpcBackend: http2.Http2Server, tcpBackend: net.Server;
let proxy: TestProxy;
let cert: string, key: string;

function selfSigned(names: string[]): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-gw-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const listenOn = async <S extends net.Server>(s: S): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
};

function tcpChain(name: string, match: FilterChain['match'], clusterName: string): FilterChain {
  return { name, match, protocol: 'tcp', tcp: { clusters: [{ cluster: clusterName, weight: 1 }], statPrefix: name } };
}

before(async () => {
  ({ cert, key } = selfSigned(['secure.example.com', 'pass.example.com']));
  web = await startUpstream('web');
  tlsBackend = tls.createServer({ cert, key }, (s) => s.end('passed-through'));
  wsBackend = http.createServer();
  wsBackend.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Path: ${req.url}\r\n\r\n`);
    socket.on('data', (c: Buffer) => socket.write(`echo:${c.toString()}`));
  });
  grpcBackend = http2.createServer();
  grpcBackend.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': `ok ${String(headers[':path'])}` }));
    stream.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
  });
  tcpBackend = net.createServer((s) => s.end('tcp-backend\n'));
  const [tlsPort, wsPort, grpcPort, tcpPort] = await Promise.all([listenOn(tlsBackend), listenOn(wsBackend), listenOn(grpcBackend), listenOn(tcpBackend)]);

  const https: Listener = {
    name: '0.0.0.0_443',
    direction: 'gateway',
    address: '0.0.0.0',
    port: 443,
    filterChains: [
      tcpChain('passthrough', { serverNames: ['pass.example.com'], transportProtocol: 'tls' }, 'tls-backend'),
      { name: 'terminate', match: { serverNames: ['secure.example.com'] }, tls: { mode: 'SIMPLE', certificate: 'gw-cred' }, protocol: 'http', http: { routeConfig: 'https.443', filters: [], statPrefix: 'https' } },
    ],
  };
  const tcp: Listener = { name: '0.0.0.0_31400', direction: 'gateway', address: '0.0.0.0', port: 31400, filterChains: [tcpChain('tcp', {}, 'tcp-backend')] };
  const config = proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80'), https, tcp],
    routes: [
      {
        name: 'http.80',
        virtualHosts: [
          vhost('ws', ['ws.example.com'], [route('ws', {}, forward('ws-backend'))]),
          vhost('grpc', ['grpc.example.com'], [route('grpc', {}, forward('grpc-backend'))]),
          vhost('web', ['*'], [route('web', {}, forward('web'))]),
        ],
      },
      { name: 'https.443', virtualHosts: [vhost('secure', ['secure.example.com'], [route('secure', {}, forward('web'))])] },
    ],
    clusters: [cluster('web'), cluster('tls-backend', { protocol: 'tcp' }), cluster('tcp-backend', { protocol: 'tcp' }), cluster('ws-backend'), cluster('grpc-backend', { protocol: 'http2' })],
    endpoints: [endpoints('web', [web.port]), endpoints('tls-backend', [tlsPort]), endpoints('tcp-backend', [tcpPort]), endpoints('ws-backend', [wsPort]), endpoints('grpc-backend', [grpcPort])],
    secrets: [{ name: 'gw-cred', certificateChain: cert, privateKey: key }],
  });
  proxy = await startProxy(config);
});

after(async () => {
  await proxy.close();
  await web.close();
  for (const s of [tlsBackend, wsBackend, grpcBackend, tcpBackend]) s.close();
});

function readAll(socket: net.Socket | tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    socket.on('data', (c: Buffer) => (out += c.toString()));
    socket.on('error', () => resolve(out));
    socket.on('close', () => resolve(out));
  });
}

test('a TCP filter chain proxies bytes to its cluster', async () => {
  const s = net.connect(proxy.port('gateway:31400'), '127.0.0.1');
  assert.equal(await readAll(s), 'tcp-backend\n');
});

test('TLS passthrough by SNI: the backend terminates, the gateway never decrypts', async () => {
  const s = tls.connect({ port: proxy.port('gateway:443'), host: '127.0.0.1', servername: 'pass.example.com', ca: cert });
  assert.equal(await readAll(s), 'passed-through');
});

test('TLS termination with the config secret, then HTTP routing', async () => {
  const s = tls.connect({ port: proxy.port('gateway:443'), host: '127.0.0.1', servername: 'secure.example.com', ca: cert });
  await new Promise<void>((r) => s.once('secureConnect', () => r()));
  s.write('GET /s HTTP/1.1\r\nHost: secure.example.com\r\nConnection: close\r\n\r\n');
  const raw = await readAll(s);
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.match(raw, /\r\n\r\n(3\r\n)?web/);
  assert.equal(web.received[web.received.length - 1]?.headers['x-forwarded-proto'], 'https');
});

test('an unknown SNI matches no chain and is closed', async () => {
  const s = tls.connect({ port: proxy.port('gateway:443'), host: '127.0.0.1', servername: 'nobody.example.com', rejectUnauthorized: false });
  assert.equal(await readAll(s), '');
});

test('WebSocket: routed like any request, then bytes flow both ways after the 101', async () => {
  const s = net.connect(proxy.port('gateway:80'), '127.0.0.1');
  let got = '';
  s.on('data', (c: Buffer) => (got += c.toString()));
  s.write('GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await waitFor(() => got.includes('\r\n\r\n'));
  assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(got, /X-Path: \/chat/);
  s.write('frame-1');
  await waitFor(() => got.endsWith('echo:frame-1'));
  s.destroy();
});

test('an Upgrade other than websocket (h2c) is served as a plain HTTP/1.1 request', async () => {
  const s = net.connect(proxy.port('gateway:80'), '127.0.0.1');
  s.write('GET /up HTTP/1.1\r\nHost: web.example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
  const raw = await readAll(s);
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.match(raw, /\r\n\r\n(3\r\n)?web/);
  const got = web.received[web.received.length - 1];
  assert.equal(got?.url, '/up');
  assert.equal(got?.headers.upgrade, undefined);
});

test('HTTP/2 cleartext (prior knowledge) and gRPC trailers, end to end', async () => {
  const client = http2.connect(`http://127.0.0.1:${proxy.port('gateway:80')}`);
  try {
    const plain = await h2request(client, { ':path': '/h2', ':authority': 'web.example.com' });
    assert.equal(plain.headers[':status'], 200);
    assert.equal(plain.body, 'web');
    const grpc = await h2request(client, { ':method': 'POST', ':path': '/pkg.Svc/Method', ':authority': 'grpc.example.com', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.from([0, 0, 0, 0, 0]));
    assert.equal(grpc.headers[':status'], 200);
    assert.equal(grpc.trailers['grpc-status'], '0');
    assert.equal(grpc.trailers['grpc-message'], 'ok /pkg.Svc/Method');
  } finally {
    client.close();
  }
});

function h2request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let data = '';
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => (data += c.toString('latin1')));
    req.on('end', () => resolve({ headers: responseHeaders, trailers, body: data }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
