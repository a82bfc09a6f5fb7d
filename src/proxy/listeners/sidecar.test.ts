/**
 * The sidecar's listeners: outbound 15001 as an HTTP proxy (absolute-form requests as apps with
 * HTTP_PROXY send them, origin-form with a Host, CONNECT tunnels to TCP services), the logical
 * listener picked by destination port, and inbound through a port map.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Listener } from '../../proxy-config/index.js';
import { startProxy, startUpstream, send, sendRaw, type TestProxy, type TestUpstream, freePort } from '../test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../test-config.js';

let reviews: TestUpstream, ratings: TestUpstream, app: TestUpstream;
let echo: net.Server;
let echoPort: number;
let proxy: TestProxy;

function virtualOutbound(clusterName: string): Listener {
  return { name: 'virtualOutbound', direction: 'outbound', address: '0.0.0.0', port: 15001, filterChains: [], defaultChain: { name: 'PassthroughFilterChain', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: clusterName, weight: 1 }], statPrefix: clusterName } } };
}

function tcpListener(name: string, port: number, clusterName: string): Listener {
  return { name, direction: 'outbound', address: '0.0.0.0', port, filterChains: [{ name: 'tcp', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: clusterName, weight: 1 }], statPrefix: clusterName } }] };
}

before(async () => {
  [reviews, ratings, app] = await Promise.all([startUpstream('reviews'), startUpstream('ratings'), startUpstream('app')]);
  // A server-first TCP service: it greets before the client says anything.
  echo = net.createServer((s) => {
    s.write('hello\n');
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  const inbound: Listener = {
    name: 'virtualInbound',
    direction: 'inbound',
    address: '0.0.0.0',
    port: 15006,
    filterChains: [{ name: '0.0.0.0_9080', match: { destinationPort: 9080 }, protocol: 'http', http: { routeConfig: 'inbound|9080||', filters: [], statPrefix: 'inbound_0.0.0.0_9080' } }],
  };
  const config = proxyConfig({
    role: 'sidecar',
    listeners: [virtualOutbound('PassthroughCluster'), httpListener('0.0.0.0_9080', 'outbound', 9080, '9080'), httpListener('0.0.0.0_9090', 'outbound', 9090, '9090'), tcpListener('0.0.0.0_3306', 3306, 'outbound|3306||db'), tcpListener('0.0.0.0_8000', 8000, 'outbound|8000||legacy'), inbound],
    routes: [
      { name: '9080', virtualHosts: [vhost('reviews.default.svc.cluster.local:9080', ['reviews', 'reviews.default.svc.cluster.local', 'reviews:9080'], [route('default', {}, forward('outbound|9080||reviews'))])] },
      { name: '9090', virtualHosts: [vhost('ratings:9090', ['ratings', 'ratings:9090'], [route('default', {}, forward('outbound|9090||ratings'))])] },
      { name: 'inbound|9080||', virtualHosts: [vhost('inbound|http|9080', ['*'], [route('default', {}, forward('inbound|9080||'))])] },
    ],
    clusters: [cluster('outbound|9080||reviews'), cluster('outbound|9090||ratings'), cluster('outbound|3306||db'), cluster('outbound|8000||legacy'), cluster('inbound|9080||'), cluster('PassthroughCluster', { discovery: 'original-dst', protocol: 'auto', loadBalancer: { policy: 'PASSTHROUGH' } })],
    endpoints: [endpoints('outbound|9080||reviews', [reviews.port]), endpoints('outbound|9090||ratings', [ratings.port]), endpoints('outbound|3306||db', [echoPort]), endpoints('outbound|8000||legacy', [ratings.port]), endpoints('inbound|9080||', [app.port])],
  });
  const inboundMapPort = await freePort();
  proxy = await startProxy(config, { bootstrap: { inboundPortMap: new Map([[inboundMapPort, 9080]]) } });
});

after(async () => {
  await proxy.close();
  await Promise.all([reviews.close(), ratings.close(), app.close()]);
  echo.close();
});

test('outbound: absolute-form proxy requests are routed by the URL, the listener picked by its port', async () => {
  const port = proxy.port('outbound');
  const r1 = await send(port, { path: 'http://reviews:9080/reviews/1?x=y', host: 'ignored' });
  assert.equal(r1.body, 'reviews');
  const got = reviews.received[reviews.received.length - 1];
  assert.equal(got?.url, '/reviews/1?x=y');
  assert.equal(got?.headers.host, 'reviews:9080');
  assert.equal((await send(port, { path: 'http://ratings:9090/' })).body, 'ratings');
  // Origin-form with a Host header, as a client that was transparently captured sends it.
  assert.equal((await send(port, { path: '/r', host: 'reviews.default.svc.cluster.local:9080' })).body, 'reviews');
  // Right host, wrong port: the 9090 listener has no virtual host for reviews.
  assert.equal((await send(port, { path: 'http://reviews:9090/' })).status, 404);
});

test('outbound: ALLOW_ANY passes a request for an unknown port to where it was headed (PassthroughCluster)', async () => {
  const before = app.received.length;
  const r = await send(proxy.port('outbound'), { path: `http://127.0.0.1:${app.port}/outside?z=1` });
  assert.equal(r.body, 'app');
  assert.equal(app.received[before]?.url, '/outside?z=1');
});

test('outbound: CONNECT to a TCP service tunnels to its cluster (server-first protocol works)', async () => {
  const port = proxy.port('outbound');
  const socket = net.connect(port, '127.0.0.1');
  let got = '';
  socket.on('data', (c: Buffer) => (got += c.toString()));
  socket.write('CONNECT db.default.svc.cluster.local:3306 HTTP/1.1\r\nHost: db.default.svc.cluster.local:3306\r\n\r\n');
  await waitFor(() => got.includes('hello\n'));
  assert.match(got, /^HTTP\/1\.1 200 Connection established\r\n\r\nhello\n$/);
  socket.write('ping');
  await waitFor(() => got.endsWith('ping'));
  socket.destroy();
  // A port no listener names: virtualOutbound passes the tunnel through to where it was headed.
  assert.equal(await sendRaw(port, `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`, 300), 'HTTP/1.1 200 Connection established\r\n\r\nhello\n');
});

test('outbound: a proxy request to a port the mesh treats as TCP goes to its cluster unrouted', async () => {
  const before = ratings.received.length;
  const r = await send(proxy.port('outbound'), { path: 'http://legacy:8000/any/path?q=1' });
  assert.equal(r.body, 'ratings');
  assert.equal(ratings.received[before]?.url, '/any/path?q=1');
  assert.equal(ratings.received[before]?.headers.host, 'legacy:8000');
});

test('inbound: a port of --inbound-port-map serves the workload port it names', async () => {
  const key = Object.keys(proxy.proxy.ports()).find((k) => k.startsWith('inbound-map:'));
  assert.ok(key);
  const r = await send(proxy.port(key), { path: '/productpage', host: 'productpage:9080' });
  assert.equal(r.body, 'app');
  // The capture port without a map cannot tell the workload port: no chain matches.
  const capture = await sendRaw(proxy.port('inbound'), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 500);
  assert.equal(capture, '');
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('outbound: REGISTRY_ONLY sends unknown destinations to the black hole: 502 over HTTP, closed over CONNECT', async () => {
  const config = proxyConfig({ role: 'sidecar', listeners: [virtualOutbound('BlackHoleCluster')], routes: [], clusters: [cluster('BlackHoleCluster', { discovery: 'static' })], endpoints: [] });
  config.mesh.outboundTrafficPolicy = 'REGISTRY_ONLY';
  const p = await startProxy(config);
  try {
    assert.equal((await send(p.port('outbound'), { path: `http://127.0.0.1:${app.port}/` })).status, 502);
    assert.equal(await sendRaw(p.port('outbound'), 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n', 500), 'HTTP/1.1 200 Connection established\r\n\r\n');
  } finally {
    await p.close();
  }
});
