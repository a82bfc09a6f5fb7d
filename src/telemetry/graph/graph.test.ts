/**
 * The service graph computed from fixed Prometheus texts, as proxies print them: rates from
 * two scrapes, error shares, percentiles from buckets, TCP edges, the unknown source, external
 * hosts and PassthroughCluster, restarts, and the text rendering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsHistory, computeGraph, quantile, readExposition, renderGraph, type GraphInput, type TargetInfo } from './index.js';

const BOUNDS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000];

type Labels = Record<string, string>;

/** Istio's label set: everything "unknown" unless given. */
function labels(given: Labels): string {
  const names = ['reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version', 'source_cluster',
    'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version', 'destination_service', 'destination_canonical_service',
    'destination_canonical_revision', 'destination_service_name', 'destination_service_namespace', 'destination_cluster', 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy'];
  return names.filter((n) => given[n] !== undefined || !['response_code', 'grpc_response_status'].includes(n) || given.request_protocol !== 'tcp')
    .map((n) => `${n}="${given[n] ?? (n === 'response_flags' ? '-' : 'unknown')}"`).join(',');
}

/** istio_requests_total and the duration histogram for one series: `durations` are whole ms, one per request. */
function http(l: Labels, durations: number[]): string {
  const text = labels(l);
  let out = `istio_requests_total{${text}} ${durations.length}\n`;
  for (const b of BOUNDS) out += `istio_request_duration_milliseconds_bucket{${text},le="${b}"} ${durations.filter((d) => d <= b).length}\n`;
  out += `istio_request_duration_milliseconds_bucket{${text},le="+Inf"} ${durations.length}\n`;
  out += `istio_request_duration_milliseconds_sum{${text}} ${durations.reduce((a, b) => a + b, 0)}\n`;
  return `${out}istio_request_duration_milliseconds_count{${text}} ${durations.length}\n`;
}

function tcp(l: Labels, c: { opened: number; closed: number; sent: number; received: number }): string {
  const text = labels({ ...l, request_protocol: 'tcp' });
  return [
    `istio_tcp_connections_opened_total{${text}} ${c.opened}`, `istio_tcp_connections_closed_total{${text}} ${c.closed}`,
    `istio_tcp_sent_bytes_total{${text}} ${c.sent}`, `istio_tcp_received_bytes_total{${text}} ${c.received}`, '',
  ].join('\n');
}

const HEADER = '# HELP istio_requests_total Total number of requests\n# TYPE istio_requests_total counter\nistio_build{component="proxy",tag="0.1.0"} 1\n';

const productpage = { source_workload: 'productpage-v1', source_workload_namespace: 'default', source_app: 'productpage', source_version: 'v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1' };
const reviewsV2 = { destination_workload: 'reviews-v2', destination_workload_namespace: 'default', destination_app: 'reviews', destination_version: 'v2', destination_canonical_service: 'reviews', destination_canonical_revision: 'v2' };
const reviewsSvc = { destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'default' };
const mtls = { source_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage', destination_principal: 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews' };

const client: TargetInfo = { id: 'productpage-v1-0.default', address: '10.0.0.1:15090', namespace: 'default', workload: 'productpage-v1', role: 'sidecar' };
const server: TargetInfo = { id: 'reviews-v2-0.default', address: '10.0.0.2:15090', namespace: 'default', workload: 'reviews-v2', role: 'sidecar' };
const ingress: TargetInfo = { id: 'istio-ingressgateway-0.istio-system', address: '10.0.0.3:15090', namespace: 'istio-system', workload: 'istio-ingressgateway', role: 'ingress-gateway' };

/** Two scrapes per proxy, 60 s apart, and the graph over a 60 s window. */
function graphOf(scrapes: [TargetInfo, string, string][], extra: Partial<GraphInput> = {}) {
  const history = new MetricsHistory();
  for (const [target, first, second] of scrapes) {
    const a = readExposition(first);
    const b = readExposition(second);
    history.record(target, 1_000_000, a.values, a.bounds);
    history.record(target, 1_060_000, b.values, b.bounds);
  }
  const { rates, latest, bounds } = history.rates(60_000, 1_060_000);
  const proxies = new Map(scrapes.map(([t]) => [`${t.namespace}/${t.workload}`, t.role]));
  return computeGraph({ rates, latest, bounds, proxies, ...extra });
}

test('request rate and error rate from two scrapes of the source proxy; the destination report is not counted again', () => {
  const src = { reporter: 'source', ...productpage, ...reviewsV2, ...reviewsSvc, ...mtls, request_protocol: 'http' };
  const dst = { ...src, reporter: 'destination', connection_security_policy: 'mutual_tls' };
  const first = HEADER + http({ ...src, response_code: '200' }, Array(10).fill(3));
  const second = HEADER + http({ ...src, response_code: '200' }, Array(64).fill(3)) + http({ ...src, response_code: '503', response_flags: 'UF' }, Array(6).fill(1));
  const serverFirst = http({ ...dst, response_code: '200' }, Array(10).fill(2));
  const serverSecond = http({ ...dst, response_code: '200' }, Array(64).fill(2));
  const g = graphOf([[client, first, second], [server, serverFirst, serverSecond]]);
  assert.deepEqual(g.nodes.map((n) => [n.id, n.kind, n.app, n.version]), [
    ['service/default/reviews', 'service', undefined, undefined],
    ['workload/default/productpage-v1', 'workload', 'productpage', 'v1'],
    ['workload/default/reviews-v2', 'workload', 'reviews', 'v2'],
  ]);
  assert.equal(g.nodes[0]?.service, 'reviews.default.svc.cluster.local');
  assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.protocol, e.requestRate, e.errorRate, e.mtls]), [
    ['service/default/reviews', 'workload/default/reviews-v2', 'http', 1, 0.1, true],
    ['workload/default/productpage-v1', 'service/default/reviews', 'http', 1, 0.1, true],
  ]);
  assert.deepEqual(g.edges[0]?.responses, { 200: 0.9, 503: 0.1 });
});

test('p50 and p99 interpolate within the histogram buckets, over the window only', () => {
  const src = { reporter: 'source', ...productpage, ...reviewsV2, ...reviewsSvc, request_protocol: 'http', response_code: '200' };
  // Before the window: slow requests (must not count). In the window: 50 at 3 ms, 49 at 20 ms, 1 at 400 ms.
  const before = Array(20).fill(900);
  const g = graphOf([[client, HEADER + http(src, before), HEADER + http(src, [...before, ...Array(50).fill(3), ...Array(49).fill(20), 400])]]);
  const edge = g.edges[0];
  // 50 of 100 within (1, 5]: the median is that bucket's upper edge.
  assert.equal(edge?.p50Ms, 5);
  // Rank 99 falls at the end of (10, 25]: 49 of 49 -> 25.
  assert.equal(edge?.p99Ms, 25);
  assert.equal(edge?.mtls, false);
  assert.equal(edge?.mtlsPercent, 0);
  assert.equal(quantile(0.5, new Map([[5, 10]]), BOUNDS), 3, 'halfway through (1, 5]');
  assert.equal(quantile(0.99, new Map([[Infinity, 4]]), BOUNDS), 1000, 'past the last bound: that bound');
  assert.equal(quantile(0.5, new Map(), BOUNDS), null);
});

test('TCP edges: bytes per second, connections per second and connections still open', () => {
  const l = { reporter: 'source', ...productpage, destination_workload: 'mysql-v1', destination_workload_namespace: 'db', destination_canonical_service: 'mysql', destination_canonical_revision: 'latest', destination_service: 'mysql.db.svc.cluster.local', destination_service_name: 'mysql', destination_service_namespace: 'db' };
  const g = graphOf([[client, tcp(l, { opened: 2, closed: 2, sent: 100, received: 50 }), tcp(l, { opened: 8, closed: 5, sent: 6100, received: 3050 })]]);
  assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.protocol, e.tcp]), [
    ['service/db/mysql', 'workload/db/mysql-v1', 'tcp', { bytesPerSecond: 150, sentBytesPerSecond: 100, receivedBytesPerSecond: 50, connectionsPerSecond: 0.1, activeConnections: 3 }],
    ['workload/default/productpage-v1', 'service/db/mysql', 'tcp', { bytesPerSecond: 150, sentBytesPerSecond: 100, receivedBytesPerSecond: 50, connectionsPerSecond: 0.1, activeConnections: 3 }],
  ]);
  assert.deepEqual(g.nodes.find((n) => n.id === 'workload/db/mysql-v1'), { id: 'workload/db/mysql-v1', kind: 'workload', namespace: 'db', name: 'mysql-v1', workload: 'mysql-v1', app: 'mysql' });
  // An idle connection that stays open keeps its edge.
  const idle = graphOf([[client, tcp(l, { opened: 1, closed: 0, sent: 5, received: 5 }), tcp(l, { opened: 1, closed: 0, sent: 5, received: 5 })]]);
  assert.equal(idle.edges[0]?.tcp?.activeConnections, 1);
  assert.equal(idle.edges[0]?.tcp?.bytesPerSecond, 0);
});

test('requests from outside the mesh: the destination reports them from the unknown source; gateways are gateways', () => {
  const fromOutside = { reporter: 'destination', ...reviewsV2, ...reviewsSvc, request_protocol: 'http', response_code: '200', connection_security_policy: 'none' };
  const viaGateway = { reporter: 'source', source_workload: 'istio-ingressgateway', source_workload_namespace: 'istio-system', source_canonical_service: 'istio-ingressgateway', ...reviewsV2, ...reviewsSvc, request_protocol: 'http', response_code: '200' };
  const g = graphOf([[server, http(fromOutside, []), http(fromOutside, [1, 1, 1])], [ingress, http(viaGateway, []), http(viaGateway, Array(6).fill(1))]]);
  assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.requestRate, e.mtls]), [
    ['service/default/reviews', 'workload/default/reviews-v2', 0.15, false],
    ['unknown', 'service/default/reviews', 0.05, false],
    ['workload/istio-system/istio-ingressgateway', 'service/default/reviews', 0.1, false],
  ]);
  assert.equal(g.nodes.find((n) => n.id === 'workload/istio-system/istio-ingressgateway')?.kind, 'gateway');
  assert.deepEqual(g.nodes.find((n) => n.id === 'unknown'), { id: 'unknown', kind: 'unknown', namespace: 'unknown', name: 'unknown' });
});

test('external hosts: PassthroughCluster, BlackHoleCluster and MESH_EXTERNAL ServiceEntry hosts are external nodes', () => {
  const base = { reporter: 'source', ...productpage, request_protocol: 'http', response_code: '200' };
  const passthrough = { ...base, destination_service: 'httpbin.org', destination_service_name: 'PassthroughCluster' };
  const entry = { ...base, destination_service: 'api.example.com', destination_service_name: 'api.example.com', destination_service_namespace: 'default' };
  const tcpPassthrough = { reporter: 'source', ...productpage, destination_service_name: 'PassthroughCluster' };
  const text = (n: number) => http(passthrough, Array(n).fill(1)) + http(entry, Array(n).fill(1)) + tcp(tcpPassthrough, { opened: n, closed: n, sent: n, received: n });
  const g = graphOf([[client, text(0), text(6)]], { isExternal: (h) => h === 'api.example.com' });
  assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.protocol]), [
    ['workload/default/productpage-v1', 'external/PassthroughCluster', 'tcp'],
    ['workload/default/productpage-v1', 'external/api.example.com', 'http'],
    ['workload/default/productpage-v1', 'external/httpbin.org', 'http'],
  ]);
  assert.ok(g.nodes.filter((n) => n.id.startsWith('external/')).every((n) => n.kind === 'external'));
  // Without registry knowledge, a host with neither namespace nor workload is taken as external.
  const unknownHost = { ...base, destination_service: 'db.example.net', destination_service_name: 'db.example.net' };
  const guessed = graphOf([[client, http(unknownHost, []), http(unknownHost, [1])]]);
  assert.deepEqual(guessed.edges.map((e) => e.target), ['external/db.example.net']);
});

test('through the egress gateway: sidecar -> egress gateway service -> gateway -> external host', () => {
  const egress = { id: 'istio-egressgateway-0.istio-system', address: '10.0.0.4:15090', namespace: 'istio-system', workload: 'istio-egressgateway', role: 'egress-gateway' };
  const toGateway = { reporter: 'source', ...productpage, destination_workload: 'istio-egressgateway', destination_workload_namespace: 'istio-system', destination_canonical_service: 'istio-egressgateway',
    destination_service: 'istio-egressgateway.istio-system.svc.cluster.local', destination_service_name: 'istio-egressgateway', destination_service_namespace: 'istio-system', ...mtls, request_protocol: 'http', response_code: '200' };
  const fromGatewayInbound = { ...toGateway, reporter: 'destination', connection_security_policy: 'mutual_tls' };
  const out = { reporter: 'source', source_workload: 'istio-egressgateway', source_workload_namespace: 'istio-system', source_canonical_service: 'istio-egressgateway',
    destination_service: 'edition.cnn.com', destination_service_name: 'edition.cnn.com', destination_service_namespace: 'istio-system', request_protocol: 'http', response_code: '200' };
  const g = graphOf([[client, http(toGateway, []), http(toGateway, Array(6).fill(2))], [egress, http(fromGatewayInbound, []) + http(out, []), http(fromGatewayInbound, Array(6).fill(1)) + http(out, Array(6).fill(4))]],
    { isExternal: (h) => h === 'edition.cnn.com' });
  assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.requestRate, e.mtls]), [
    ['service/istio-system/istio-egressgateway', 'workload/istio-system/istio-egressgateway', 0.1, true],
    ['workload/default/productpage-v1', 'service/istio-system/istio-egressgateway', 0.1, true],
    ['workload/istio-system/istio-egressgateway', 'external/edition.cnn.com', 0.1, false],
  ]);
  assert.equal(g.nodes.find((n) => n.id === 'workload/istio-system/istio-egressgateway')?.kind, 'gateway');
});

test('a proxy restart (counters drop) counts from zero; a series first seen between scrapes counts whole; idle edges drop out', () => {
  const src = { reporter: 'source', ...productpage, ...reviewsV2, ...reviewsSvc, request_protocol: 'http', response_code: '200' };
  const history = new MetricsHistory();
  const at = (t: number, n: number) => history.record(client, t, readExposition(n < 0 ? HEADER : http(src, Array(n).fill(1))).values);
  at(0, 100);
  at(10_000, 130); // +30
  at(20_000, 12); // restarted: +12
  at(30_000, 30); // +18
  const { rates } = history.rates(30_000, 30_000);
  const g = computeGraph({ rates, latest: new Map(), proxies: new Map() });
  assert.equal(g.edges[0]?.requestRate, 2);
  const fresh = new MetricsHistory();
  fresh.record(client, 0, readExposition(HEADER).values);
  fresh.record(client, 10_000, readExposition(http(src, Array(5).fill(1))).values);
  assert.equal(computeGraph({ ...fresh.rates(60_000, 10_000), proxies: new Map() }).edges[0]?.requestRate, 0.5);
  // A window that holds no increase: no edges at all.
  fresh.record(client, 20_000, readExposition(http(src, Array(5).fill(1))).values);
  assert.deepEqual(computeGraph({ ...fresh.rates(10_000, 20_000), proxies: new Map() }).edges, []);
  // One scrape says nothing about a rate.
  const once = new MetricsHistory();
  once.record(client, 0, readExposition(http(src, [1])).values);
  assert.deepEqual(once.rates(60_000, 0).rates.size, 0);
});

test('the namespace filter keeps paths that touch the namespace', () => {
  const a = { reporter: 'source', ...productpage, ...reviewsV2, ...reviewsSvc, request_protocol: 'http', response_code: '200' };
  const b = { reporter: 'source', source_workload: 'loadgen', source_workload_namespace: 'tools', destination_workload: 'web', destination_workload_namespace: 'shop', destination_service: 'web.shop.svc.cluster.local', destination_service_name: 'web', destination_service_namespace: 'shop', request_protocol: 'http', response_code: '200' };
  const text = (n: number) => http(a, Array(n).fill(1)) + http(b, Array(n).fill(1));
  const all = graphOf([[client, text(0), text(3)]]);
  assert.equal(all.edges.length, 4);
  const shop = graphOf([[client, text(0), text(3)]], { namespace: 'shop' });
  assert.deepEqual(shop.nodes.map((n) => n.id), ['service/shop/web', 'workload/shop/web', 'workload/tools/loadgen']);
  assert.equal(graphOf([[client, text(0), text(3)]], { namespace: 'nowhere' }).edges.length, 0);
});

test('reading: escaped label values, odd lines counted not fatal, other families skipped, series bounded', () => {
  const src = { reporter: 'source', ...productpage, ...reviewsSvc, destination_workload: 'we\\"ird\\\\wl', destination_workload_namespace: 'default', request_protocol: 'http', response_code: '200' };
  const text = `${HEADER}${http(src, [1, 2])}istio_requests_total{reporter="source" 5\nistio_request_bytes_bucket{le="1"} 3\nnot a sample\n`;
  const read = readExposition(text);
  assert.equal(read.badLines, 1);
  assert.deepEqual([...read.values.keys()].map((k) => k.split('\u0002')[0]).sort(), ['d1', 'd5', 'req']);
  const history = new MetricsHistory();
  history.record(client, 0, readExposition(http(src, [])).values);
  history.record(client, 1000, read.values);
  const g = computeGraph({ ...history.rates(60_000, 1000), proxies: new Map() });
  assert.ok(g.nodes.some((n) => n.name === 'we"ird\\wl'));
  const many = Array.from({ length: 20 }, (_, i) => http({ ...src, response_code: String(200 + i) }, [1])).join('');
  assert.equal(readExposition(many, 5).dropped, 15 + 15);
});

test('history keeps two minutes in full and thins older scrapes, then forgets proxies past ten minutes', () => {
  const history = new MetricsHistory();
  for (let t = 0; t <= 600_000; t += 5_000) history.record(client, t, new Map([['req\u0002x', t / 1000]]));
  const kept = history.status()[0]?.samples ?? 0;
  assert.ok(kept < 60, `${kept} samples kept`);
  assert.ok(kept >= 24 + 15, `${kept} samples kept`);
  history.prune(600_000 + 600_001);
  history.prune(600_000 + 1_300_000);
  assert.deepEqual(history.status(), []);
});

test('text rendering: one aligned line per edge', () => {
  const src = { reporter: 'source', ...productpage, ...reviewsV2, ...reviewsSvc, ...mtls, request_protocol: 'http' };
  const l = { reporter: 'source', ...productpage, destination_workload: 'mysql-v1', destination_workload_namespace: 'db', destination_service: 'mysql.db.svc.cluster.local', destination_service_name: 'mysql', destination_service_namespace: 'db' };
  const g = graphOf([[client, http({ ...src, response_code: '200' }, []) + tcp(l, { opened: 0, closed: 0, sent: 0, received: 0 }),
    http({ ...src, response_code: '200' }, Array(60).fill(3)) + tcp(l, { opened: 6, closed: 6, sent: 61440, received: 60 })]]);
  assert.equal(renderGraph(g), [
    'svc/mysql.db            ->  mysql-v1.db          tcp   1 KiB/s  0.1 conn/s  0 open               plaintext',
    'svc/reviews.default     ->  reviews-v2.default   http  1 rps    0.0% err    p50 3ms  p99 4.96ms  mTLS',
    'productpage-v1.default  ->  svc/mysql.db         tcp   1 KiB/s  0.1 conn/s  0 open               plaintext',
    'productpage-v1.default  ->  svc/reviews.default  http  1 rps    0.0% err    p50 3ms  p99 4.96ms  mTLS',
    '',
    'services (every caller\'s requests together):',
    'svc/reviews.default  1 rps  0.0% err  p50 3ms  p99 4.96ms',
    '',
  ].join('\n'));
  assert.equal(renderGraph({ nodes: [], edges: [] }), 'no traffic in the window\n');
});
