/**
 * Distributed tracing end to end, on loopback with real sockets: an ingress gateway, the
 * productpage pod (its sidecar, inbound and outbound, and its app) and the reviews pod (sidecar
 * and app), all reporting to a real trace store server, which is then read through Zipkin's API.
 * The productpage app forwards the trace headers as bookinfo does, unless asked not to: then, as
 * in Istio, the call to reviews starts a trace of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { Cluster, Listener, ProxyConfig } from '../../proxy-config/index.js';
import { startProxy, send, type TestProxy, freePort } from '../test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../test-config.js';
import { TraceServer } from '../../telemetry/index.js';
import type { Span } from '../../telemetry/index.js';
import { startTestMesh } from '../telemetry/test-mesh.js';

/** The headers bookinfo's apps copy from the request they serve to the requests they make. */
const TRACE_HEADERS = ['x-request-id', 'traceparent', 'tracestate', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3'];

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function svc(name: string, port: number): Cluster['service'] {
  return { host: `${name}.default.svc.cluster.local`, name, namespace: 'default', port };
}

function inboundListener(): Listener {
  return {
    name: 'virtualInbound', direction: 'inbound', address: '0.0.0.0', port: 15006,
    filterChains: [{ name: '0.0.0.0_9080', match: { destinationPort: 9080 }, protocol: 'http', http: { routeConfig: 'inbound|9080||', filters: [], statPrefix: 'inbound_0.0.0.0_9080' } }],
  };
}

function withNode(config: ProxyConfig, node: Partial<ProxyConfig['node']>, zipkinPort: number, samplingPercent: number): ProxyConfig {
  return { ...config, node: { ...config.node, ...node }, mesh: { ...config.mesh, tracing: { samplingPercent, zipkinAddress: `127.0.0.1:${zipkinPort}` } } };
}

interface Mesh {
  store: TraceServer;
  gatewayPort: number;
  proxies: TestProxy[];
  /** What the reviews app received, per request. */
  reviewsGot: http.IncomingHttpHeaders[];
}

async function startMesh(t: { after: (fn: () => Promise<void>) => void }, samplingPercent = 100): Promise<Mesh> {
  const store = new TraceServer({ zipkinPort: 0, otlpPort: 0 });
  await store.start();
  t.after(() => store.close());
  const zipkin = store.ports.zipkin;
  const reviewsGot: http.IncomingHttpHeaders[] = [];
  const reviewsApp = http.createServer((req, res) => {
    reviewsGot.push(req.headers);
    res.end('reviews');
  });
  const reviewsAppPort = await listen(reviewsApp);
  t.after(() => new Promise<void>((r) => reviewsApp.close(() => r())));

  // reviews-v1's sidecar: inbound only.
  const reviewsInbound = await freePort();
  const reviews = await startProxy(
    withNode(proxyConfig({
      role: 'sidecar',
      listeners: [inboundListener()],
      routes: [{ name: 'inbound|9080||', virtualHosts: [vhost('inbound|http|9080', ['*'], [route('default', {}, forward('inbound|9080||'))])] }],
      clusters: [cluster('inbound|9080||', { service: svc('reviews', 9080) })],
      endpoints: [endpoints('inbound|9080||', [reviewsAppPort])],
    }), { id: 'reviews-v1-0.default', workload: 'reviews-v1', labels: { app: 'reviews', version: 'v1' } }, zipkin, samplingPercent),
    { bootstrap: { inboundPortMap: new Map([[reviewsInbound, 9080]]) } },
  );

  // productpage-v1's sidecar: inbound to its app, outbound to reviews.
  const productpageInbound = await freePort();
  const outboundPort = await freePort();
  const reviewsCluster = 'outbound|9080||reviews.default.svc.cluster.local';
  const productpageApp = http.createServer((req, res) => {
    // Bookinfo's productpage: copy the trace headers (unless told not to), call reviews through the sidecar.
    const headers: Record<string, string> = { host: 'reviews:9080' };
    if (!req.url?.includes('forward=no')) for (const h of TRACE_HEADERS) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
    const call = http.request({ host: '127.0.0.1', port: outboundPort, path: '/reviews/0', headers, agent: false }, (up) => {
      up.resume();
      up.on('end', () => res.end(`productpage saw ${up.statusCode ?? 0}`));
    });
    call.on('error', () => res.writeHead(502).end());
    call.end();
  });
  const productpageAppPort = await listen(productpageApp);
  t.after(() => new Promise<void>((r) => productpageApp.close(() => r())));
  const productpage = await startProxy(
    withNode(proxyConfig({
      role: 'sidecar',
      listeners: [inboundListener(), httpListener('0.0.0.0_9080', 'outbound', 9080, '9080')],
      routes: [
        { name: 'inbound|9080||', virtualHosts: [vhost('inbound|http|9080', ['*'], [route('default', {}, forward('inbound|9080||'))])] },
        { name: '9080', virtualHosts: [vhost('reviews.default.svc.cluster.local:9080', ['reviews', 'reviews:9080'], [route('default', { path: { prefix: '/' } }, forward(reviewsCluster))])] },
      ],
      clusters: [cluster('inbound|9080||', { service: svc('productpage', 9080) }), cluster(reviewsCluster, { service: svc('reviews', 9080) })],
      endpoints: [endpoints('inbound|9080||', [productpageAppPort]), endpoints(reviewsCluster, [reviewsInbound])],
    }), { id: 'productpage-v1-0.default', workload: 'productpage-v1', labels: { app: 'productpage', version: 'v1' } }, zipkin, samplingPercent),
    { bootstrap: { inboundPortMap: new Map([[productpageInbound, 9080]]), ports: { outbound: outboundPort, inbound: 0, admin: 0, health: 0 } } },
  );

  const productpageCluster = 'outbound|9080||productpage.default.svc.cluster.local';
  const gateway = await startProxy(
    withNode(proxyConfig({
      role: 'ingress-gateway',
      listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
      routes: [{ name: 'http.80', virtualHosts: [vhost('*:80', ['*'], [route('bookinfo.default.0', { path: { exact: '/productpage' } }, forward(productpageCluster))])] }],
      clusters: [cluster(productpageCluster, { service: svc('productpage', 9080) })],
      endpoints: [endpoints(productpageCluster, [productpageInbound])],
    }), { id: 'istio-ingressgateway-0.istio-system', role: 'ingress-gateway', namespace: 'istio-system', workload: 'istio-ingressgateway', labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } }, zipkin, samplingPercent),
  );
  const proxies = [gateway, productpage, reviews];
  t.after(() => Promise.all(proxies.map((p) => p.close())).then(() => undefined));
  return { store, gatewayPort: gateway.port('gateway:80'), proxies, reviewsGot };
}

/** Flushes every proxy's tracer until the store holds `count` spans of the trace (spans are recorded when responses close). */
async function spansOf(mesh: Mesh, traceId: string, count: number): Promise<Span[]> {
  for (let i = 0; ; i++) {
    await Promise.all(mesh.proxies.map((p) => p.proxy.tracer?.flush()));
    const res = await fetch(`http://127.0.0.1:${mesh.store.ports.zipkin}/api/v2/trace/${traceId}`);
    const spans = res.status === 200 ? ((await res.json()) as Span[]) : [];
    if (spans.length >= count || i === 100) return spans;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function within(child: Span, parent: Span): boolean {
  const c = { start: child.timestamp ?? 0, end: (child.timestamp ?? 0) + (child.duration ?? 0) };
  const p = { start: parent.timestamp ?? 0, end: (parent.timestamp ?? 0) + (parent.duration ?? 0) };
  // Each end is rounded to a microsecond on its own.
  return c.start >= p.start - 1 && c.end <= p.end + 2;
}

test('gateway -> productpage -> reviews is one trace: server and client spans, parent by parent, children inside their parents', async (t) => {
  const mesh = await startMesh(t);
  const reply = await send(mesh.gatewayPort, { path: '/productpage', host: 'bookinfo.example.com', headers: { 'user-agent': 'curl/8.5' } });
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'productpage saw 200');
  const got = mesh.reviewsGot[0] ?? {};
  const traceId = String(got['x-b3-traceid']);
  assert.match(traceId, /^[0-9a-f]{32}$/, 'the gateway started a 128-bit trace');
  assert.match(String(got.traceparent), new RegExp(`^00-${traceId}-${String(got['x-b3-spanid'])}-01$`), 'W3C and B3 carry the same context');
  const spans = await spansOf(mesh, traceId, 4);
  const summary = spans.map((s) => [s.localEndpoint?.serviceName, s.kind, s.name]);
  assert.deepEqual(summary, [
    ['istio-ingressgateway.istio-system', 'SERVER', 'productpage.default.svc.cluster.local:9080/productpage'],
    ['productpage.default', 'SERVER', 'productpage.default.svc.cluster.local:9080/*'],
    ['productpage.default', 'CLIENT', 'reviews.default.svc.cluster.local:9080/*'],
    ['reviews.default', 'SERVER', 'reviews.default.svc.cluster.local:9080/*'],
  ]);
  const [gw, ppIn, ppOut, rv] = spans as [Span, Span, Span, Span];
  assert.equal(gw.parentId, undefined, 'the gateway span is the root');
  assert.equal(ppIn.parentId, gw.id);
  assert.equal(ppOut.parentId, ppIn.id);
  assert.equal(rv.parentId, ppOut.id);
  assert.equal(got['x-b3-spanid'], rv.id, 'the app sees its own sidecar\'s span as the parent of whatever it does');
  for (const [child, parent] of [[ppIn, gw], [ppOut, ppIn], [rv, ppOut]] as const) assert.ok(within(child, parent), `${child.name} within ${parent.name}`);
  // Istio's tags; one x-request-id across the whole trace.
  const requestId = String(got['x-request-id']);
  assert.ok(spans.every((s) => s.tags?.['guid:x-request-id'] === requestId));
  assert.deepEqual(
    { ...gw.tags, 'peer.address': '', request_size: '', response_size: '' },
    {
      node_id: 'router~127.0.0.1~istio-ingressgateway-0.istio-system~istio-system.svc.cluster.local', zone: '', component: 'proxy',
      'istio.canonical_service': 'istio-ingressgateway', 'istio.canonical_revision': 'latest', 'istio.mesh_id': 'cluster.local', 'istio.namespace': 'istio-system', 'istio.cluster_id': 'Kubernetes',
      'guid:x-request-id': requestId, 'http.url': 'http://bookinfo.example.com/productpage', 'http.method': 'GET', downstream_cluster: '-', user_agent: 'curl/8.5', 'http.protocol': 'HTTP/1.1',
      'peer.address': '', request_size: '', response_size: '',
      upstream_cluster: 'outbound|9080||productpage.default.svc.cluster.local', 'upstream_cluster.name': 'outbound|9080||productpage.default.svc.cluster.local', 'http.status_code': '200', response_flags: '-',
    },
  );
  assert.equal(gw.tags?.['peer.address'], '127.0.0.1');
  assert.ok(Number(gw.tags?.response_size) > 0);
  assert.deepEqual([ppOut.remoteEndpoint?.serviceName, ppOut.remoteEndpoint?.ipv4, typeof ppOut.remoteEndpoint?.port], ['reviews.default', '127.0.0.1', 'number']);
  assert.deepEqual(gw.remoteEndpoint, { ipv4: '127.0.0.1' }, 'a server span\'s remote is its client');
  assert.deepEqual(gw.localEndpoint, { serviceName: 'istio-ingressgateway.istio-system', ipv4: '127.0.0.1' });
  assert.equal(rv.tags?.['istio.canonical_revision'], 'v1');
  // Zipkin's search finds it by service and span name.
  const found = (await (await fetch(`http://127.0.0.1:${mesh.store.ports.zipkin}/api/v2/traces?serviceName=reviews.default&spanName=${encodeURIComponent('reviews.default.svc.cluster.local:9080/*')}`)).json()) as Span[][];
  assert.deepEqual(found.map((tr) => tr[0]?.traceId), [traceId]);
});

test('an app that does not forward the headers splits the request into two traces, as in Istio', async (t) => {
  const mesh = await startMesh(t);
  const reply = await send(mesh.gatewayPort, { path: '/productpage?forward=no', host: 'bookinfo.example.com' });
  assert.equal(reply.body, 'productpage saw 200');
  const got = mesh.reviewsGot[0] ?? {};
  const second = String(got['x-b3-traceid']);
  const secondSpans = await spansOf(mesh, second, 2);
  assert.deepEqual(secondSpans.map((s) => [s.localEndpoint?.serviceName, s.kind, s.parentId === undefined]), [
    ['productpage.default', 'CLIENT', true],
    ['reviews.default', 'SERVER', false],
  ]);
  const first = (await (await fetch(`http://127.0.0.1:${mesh.store.ports.zipkin}/api/v2/traces?serviceName=istio-ingressgateway.istio-system`)).json()) as Span[][];
  assert.equal(first.length, 1);
  const firstSpans = await spansOf(mesh, first[0]?.[0]?.traceId ?? '', 2);
  assert.notEqual(firstSpans[0]?.traceId, second);
  assert.deepEqual(firstSpans.map((s) => [s.localEndpoint?.serviceName, s.kind]), [
    ['istio-ingressgateway.istio-system', 'SERVER'],
    ['productpage.default', 'SERVER'],
  ]);
  assert.notEqual(firstSpans[0]?.tags?.['guid:x-request-id'], secondSpans[0]?.tags?.['guid:x-request-id'], 'the request id was not forwarded either');
});

test('the caller\'s decision wins: its sampled trace is continued at 0%, its "not sampled" propagates and records nothing', async (t) => {
  const mesh = await startMesh(t, 0);
  const clientTrace = '0af7651916cd43dd8448eb211c80319c';
  const clientSpan = 'b7ad6b7169203331';
  await send(mesh.gatewayPort, { path: '/productpage', host: 'bookinfo.example.com', headers: { traceparent: `00-${'1'.repeat(32)}-${clientSpan}-00` } });
  await send(mesh.gatewayPort, { path: '/productpage', host: 'bookinfo.example.com', headers: { b3: `${clientTrace}-${clientSpan}-1` } });
  const [unsampled, sampled] = mesh.reviewsGot;
  assert.equal(unsampled?.['x-b3-sampled'], '0');
  assert.equal(unsampled?.['x-b3-traceid'], '1'.repeat(32), 'an unsampled trace still propagates');
  assert.match(String(unsampled?.traceparent), /-00$/);
  assert.equal(sampled?.['x-b3-traceid'], clientTrace);
  assert.match(String(sampled?.b3), new RegExp(`^${clientTrace}-[0-9a-f]{16}-1-[0-9a-f]{16}$`), 'b3 single in, b3 single out');
  const spans = await spansOf(mesh, clientTrace, 4);
  assert.equal(spans.length, 4);
  assert.equal(spans[0]?.parentId, clientSpan, 'the gateway span is the caller\'s child');
  assert.equal(mesh.store.store.spanCount, 4, 'nothing from the unsampled request, nothing from a 0% mesh');
  await mesh.proxies[0]?.proxy.tracer?.flush(); // waits for a POST in flight, so its counter has moved
  assert.equal(mesh.proxies[0]?.proxy.services.stats.get('tracing.zipkin.spans_sent'), 1);
});

test('a TCP connection is a span of its own, named after the destination service', async (t) => {
  const store = new TraceServer({ zipkinPort: 0, otlpPort: 0 });
  await store.start();
  t.after(() => store.close());
  const mesh = await startTestMesh();
  t.after(() => mesh.close());
  const config = mesh.client.proxy.snapshot?.config as ProxyConfig;
  const applied = await mesh.client.proxy.applyConfig({ ...config, version: '2', mesh: { ...config.mesh, tracing: { samplingPercent: 100, zipkinAddress: `127.0.0.1:${store.ports.zipkin}` } } });
  assert.ok(applied.accepted);
  await mesh.tcpRoundTrip('ping');
  let spans: Span[][] = [];
  for (let i = 0; i < 100 && spans.length === 0; i++) {
    await mesh.client.proxy.tracer?.flush();
    spans = (await (await fetch(`http://127.0.0.1:${store.ports.zipkin}/api/v2/traces?serviceName=productpage.default`)).json()) as Span[][];
    if (spans.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  const span = spans[0]?.[0];
  assert.equal(span?.name, 'mysql.default.svc.cluster.local:3306');
  assert.equal(span?.kind, 'CLIENT');
  assert.equal(span?.parentId, undefined);
  assert.deepEqual([span?.tags?.upstream_cluster, span?.tags?.request_size, span?.tags?.response_size, span?.tags?.['net.transport']], ['outbound|3306||mysql.default.svc.cluster.local', '4', '4', 'tcp']);
  assert.equal(span?.remoteEndpoint?.serviceName, 'mysql.default');
});
