/**
 * The pieces behind the end-to-end test, where their edge cases are easier to reach: the
 * metadata exchange's protobuf encoding (and its tolerance of garbage), the exposition writer's
 * escaping and bucket bounds, and the access log's JSON encoding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePeerMetadata, decodeStruct, encodeStruct, localPeer, localPeerHeaders } from '../http/peer-metadata.js';
import { HistogramValues, bucketSuffixes, escapeLabelValue, formatBound, labelText } from './prometheus.js';
import { parseExposition } from './parse.js';
import { accessLogFormatter, compileFormat, formatText } from './access-log.js';
import type { ProxyNode } from '../../proxy-config/index.js';
import type { RequestEvent } from '../events.js';
import { cluster, proxyConfig } from '../test-config.js';
import { IstioMetrics } from './metrics.js';
import { HTTP_LABELS, TCP_LABELS, istioLabelValues } from './labels.js';

const NODE: ProxyNode = { id: 'reviews-v2-7d9f.default', role: 'sidecar', namespace: 'default', workload: 'reviews-v2', labels: { app: 'reviews', version: 'v2' }, serviceAccount: 'bookinfo-reviews', ip: '10.0.0.7', revision: '' };

test('peer metadata: Istio\'s Struct fields, base64, read back into the same workload', () => {
  const { id, value } = localPeerHeaders(NODE);
  assert.equal(id, 'sidecar~10.0.0.7~reviews-v2-7d9f.default~default.svc.cluster.local');
  assert.deepEqual(decodeStruct(Buffer.from(value, 'base64')), {
    CLUSTER_ID: 'Kubernetes',
    LABELS: { app: 'reviews', 'service.istio.io/canonical-name': 'reviews', 'service.istio.io/canonical-revision': 'v2', version: 'v2' },
    NAME: 'reviews-v2-7d9f',
    NAMESPACE: 'default',
    OWNER: 'kubernetes://apis/apps/v1/namespaces/default/deployments/reviews-v2',
    WORKLOAD_NAME: 'reviews-v2',
  });
  assert.deepEqual(decodePeerMetadata(value), localPeer(NODE));
  // Decoded once: the same object every time (metrics key their series on it).
  assert.equal(decodePeerMetadata(value), decodePeerMetadata(value));
});

test('peer metadata: entries in any order, other value kinds and unknown fields are skipped', () => {
  // Hand-built: NAMESPACE first, then a number_value field (wire type 1) that must be skipped.
  const entry = (key: string, value: Buffer) => Buffer.concat([Buffer.from([0x0a, key.length]), Buffer.from(key), Buffer.from([0x12, value.length]), value]);
  const str = (s: string) => Buffer.concat([Buffer.from([0x1a, s.length]), Buffer.from(s)]);
  const num = Buffer.concat([Buffer.from([0x11]), Buffer.alloc(8)]);
  const wrap = (b: Buffer) => Buffer.concat([Buffer.from([0x0a, b.length]), b]);
  const struct = Buffer.concat([wrap(entry('NAMESPACE', str('shop'))), wrap(entry('PORT', num)), wrap(entry('WORKLOAD_NAME', str('cart')))]);
  assert.deepEqual(decodeStruct(struct), { NAMESPACE: 'shop', WORKLOAD_NAME: 'cart' });
  assert.deepEqual(decodeStruct(encodeStruct({ A: 'x', B: { c: 'd' } })), { A: 'x', B: { c: 'd' } });
});

test('peer metadata: garbage is no peer, never an exception', () => {
  for (const bad of ['!!!', Buffer.from([0x0a, 0x7f, 0x01]).toString('base64'), Buffer.from([0x0f]).toString('base64'), '']) {
    const p = decodePeerMetadata(bad);
    assert.ok(p === undefined || p.workload === '', bad);
  }
});

test('exposition: label values escaped, bounds printed as Envoy does, histogram lines cumulative', () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.deepEqual([0.5, 1, 300000, 600000, 1800000, 3600000].map(formatBound), ['0.5', '1', '300000', '600000', '1.8e+06', '3.6e+06']);
  const h = new HistogramValues([1, 5]);
  for (const v of [0, 1, 2, 9]) h.observe(v);
  const labels = labelText(['path'], ['/a"b']);
  const text = h.write('x', labels, bucketSuffixes([1, 5]));
  assert.equal(text, 'x_bucket{path="/a\\"b",le="1"} 2\nx_bucket{path="/a\\"b",le="5"} 3\nx_bucket{path="/a\\"b",le="+Inf"} 4\nx_sum{path="/a\\"b"} 12\nx_count{path="/a\\"b"} 4\n');
  assert.equal(parseExposition(text).samples[0]?.labels.path, '/a"b');
  assert.equal(new HistogramValues([1]).write('y', '', bucketSuffixes([1])).split('\n')[0], 'y_bucket{le="1"} 0');
});

function requestEvent(extra: Partial<RequestEvent> = {}): RequestEvent {
  return {
    startTime: Date.UTC(2026, 10, 25, 13, 0, 0, 123), durationMs: 12.7, upstreamServiceTimeMs: 10.2, listener: '0.0.0.0_9080', direction: 'outbound', statPrefix: 'outbound',
    protocol: 'HTTP/1.1', method: 'GET', authority: 'reviews:9080', path: '/r?x=1', requestId: 'id-1', userAgent: 'curl/8', forwardedFor: '', status: 200, flags: '', details: 'via_upstream',
    route: 'default', virtualHost: 'reviews:9080', cluster: 'outbound|9080||reviews', upstreamHost: '10.0.0.7:9080', attempts: 1, bytesReceived: 80, bytesSent: 200,
    downstreamRemoteAddress: '10.0.0.5', downstreamLocalAddress: '10.0.0.5:15001', requestedServerName: '', origin: {}, config: proxyConfig({ listeners: [], routes: [], clusters: [], endpoints: [] }),
    grpc: false, grpcStatus: '', downstreamPeer: undefined, upstreamPeer: undefined, peerPrincipal: undefined, upstreamEndpoint: undefined, ...extra,
  };
}

test('access log: the default TEXT line, exactly', () => {
  const line = accessLogFormatter({ encoding: 'TEXT' })({ kind: 'http', event: requestEvent() });
  assert.equal(line, '[2026-11-25T13:00:00.123Z] "GET /r?x=1 HTTP/1.1" 200 - via_upstream - "-" 80 200 12 10 "-" "curl/8" "id-1" "reviews:9080" "10.0.0.7:9080" outbound|9080||reviews - 10.0.0.5:15001 10.0.0.5 - default\n');
});

test('access log: JSON with Istio\'s keys, sorted, typed values, null for unset', () => {
  const line = accessLogFormatter({ encoding: 'JSON' })({ kind: 'http', event: requestEvent({ status: 503, flags: 'UF,URX' }) });
  const obj = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(obj), [...Object.keys(obj)].sort());
  assert.equal(Object.keys(obj).length, 24);
  assert.equal(obj.response_code, 503);
  assert.equal(obj.response_flags, 'UF,URX');
  assert.equal(obj.bytes_sent, 200);
  assert.equal(obj.duration, 12);
  assert.equal(obj.upstream_service_time, '10');
  assert.equal(obj.x_forwarded_for, null);
  assert.equal(obj.path, '/r?x=1');
  assert.equal(obj.start_time, '2026-11-25T13:00:00.123Z');
});

test('access log: a custom format, truncation, %% and unknown operators', () => {
  const unknown: string[] = [];
  const parts = compileFormat('%REQ(:METHOD)% %REQ(USER-AGENT):4% 100%% %NOPE% %RESPONSE_CODE%', (op) => unknown.push(op));
  assert.equal(formatText(parts, { kind: 'http', event: requestEvent() }), 'GET curl 100% - 200');
  assert.deepEqual(unknown, ['%NOPE%']);
});

test('labels: mTLS principals and policy on the server, gRPC protocol and status, special clusters', () => {
  const base = proxyConfig({ role: 'sidecar', listeners: [], routes: [], clusters: [], endpoints: [] });
  const config = { ...base, node: NODE };
  const names = (values: string[]) => Object.fromEntries(HTTP_LABELS.map((n, i) => [n, values[i]]));
  const server = names(istioLabelValues({
    config, direction: 'inbound', cluster: 'inbound|9080||', route: 'default', authority: 'reviews:9080', peerPrincipal: 'cluster.local/ns/shop/sa/productpage',
    downstreamPeer: undefined, upstreamPeer: undefined, upstreamEndpoint: undefined, protocol: 'grpc', status: 200, grpcStatus: '14', flags: '',
  }));
  assert.equal(server.source_principal, 'spiffe://cluster.local/ns/shop/sa/productpage');
  assert.equal(server.source_workload_namespace, 'shop'); // from the SAN, with no metadata
  assert.equal(server.source_workload, 'unknown');
  assert.equal(server.destination_principal, 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews');
  assert.equal(server.connection_security_policy, 'mutual_tls');
  assert.deepEqual([server.request_protocol, server.grpc_response_status, server.response_flags], ['grpc', '14', '-']);
  const client = names(istioLabelValues({
    config, direction: 'outbound', cluster: 'PassthroughCluster', route: 'allow_any', authority: 'httpbin.org', peerPrincipal: undefined,
    downstreamPeer: undefined, upstreamPeer: undefined, upstreamEndpoint: undefined, protocol: 'http', status: 200, grpcStatus: '', flags: '',
  }));
  assert.deepEqual([client.destination_service, client.destination_service_name, client.destination_canonical_revision, client.connection_security_policy], ['httpbin.org', 'PassthroughCluster', 'latest', 'unknown']);
  assert.equal(TCP_LABELS.length, HTTP_LABELS.length - 2);
});

test('metrics: requests whose keys differ but whose labels agree share one series', () => {
  const base = proxyConfig({ role: 'sidecar', listeners: [], routes: [], clusters: [cluster('outbound|9080||reviews', { service: { host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default', port: 9080 } })], endpoints: [] });
  const config = { ...base, node: NODE };
  const metrics = new IstioMetrics();
  const sample = { config, direction: 'outbound' as const, cluster: 'outbound|9080||reviews', route: 'default', peerPrincipal: undefined, downstreamPeer: undefined, upstreamPeer: undefined, upstreamEndpoint: undefined, grpc: false, status: 200, grpcStatus: '', flags: '', durationMs: 0.4, requestBytes: 10, responseBytes: 20 };
  for (const authority of ['reviews', 'reviews:9080', 'reviews.default.svc.cluster.local:9080']) metrics.recordRequest({ ...sample, authority });
  metrics.recordRequest({ ...sample, authority: 'reviews', status: 503, flags: 'UO' });
  const samples = parseExposition(metrics.prometheus()).samples.filter((s) => s.name === 'istio_requests_total');
  assert.deepEqual(samples.map((s) => [s.labels.destination_service, s.labels.response_code, s.labels.response_flags, s.value]), [
    ['reviews.default.svc.cluster.local', '200', '-', 3],
    ['reviews.default.svc.cluster.local', '503', 'UO', 1],
  ]);
});
