/**
 * Micro benchmark of what telemetry adds to one request: publishing the request event to a
 * subscribed recorder (diagnostics_channel), recording Istio's counter and three histograms,
 * and, separately, formatting one access log line. Requests cycle through a few distinct
 * series (codes, peers), as a sidecar's traffic does. Not a test; run it by hand:
 *
 *   node .build/<dir>/src/proxy/telemetry/record.bench.js [iterations]
 */
import { requestChannel, type RequestEvent } from '../events.js';
import { Telemetry } from './recorder.js';
import { accessLogFormatter } from './access-log.js';
import { proxyConfig, cluster } from '../test-config.js';
import { decodePeerMetadata, localPeerHeaders } from '../http/peer-metadata.js';

const iterations = Number(process.argv[2] ?? 1_000_000);
const origin = {};
const base = proxyConfig({ role: 'sidecar', listeners: [], routes: [], clusters: [cluster('outbound|9080||reviews.default.svc.cluster.local', { service: { host: 'reviews.default.svc.cluster.local', name: 'reviews', namespace: 'default', port: 9080 } })], endpoints: [] });
const config = { ...base, node: { ...base.node, workload: 'productpage-v1', labels: { app: 'productpage', version: 'v1' } } };
const peers = ['v1', 'v2', 'v3'].map((v) => decodePeerMetadata(localPeerHeaders({ ...config.node, id: `reviews-${v}.default`, workload: `reviews-${v}`, labels: { app: 'reviews', version: v } }).value));
const events: RequestEvent[] = [200, 200, 200, 503, 404].flatMap((status) => peers.map((peer) => ({
  startTime: Date.now(), durationMs: 3.2, upstreamServiceTimeMs: 2.9, listener: '0.0.0.0_9080', direction: 'outbound' as const, statPrefix: 'outbound',
  protocol: 'HTTP/1.1', method: 'GET', authority: 'reviews:9080', path: '/reviews/1', requestId: 'a1b2', userAgent: 'curl/8', forwardedFor: '', status, flags: status === 503 ? 'UF' : '', details: 'via_upstream',
  route: 'default', virtualHost: 'reviews:9080', cluster: 'outbound|9080||reviews.default.svc.cluster.local', upstreamHost: '10.0.0.7:9080', attempts: 1, bytesReceived: 120, bytesSent: 640,
  downstreamRemoteAddress: '10.0.0.5', downstreamLocalAddress: '10.0.0.5:15001', requestedServerName: '', origin, config,
  grpc: false, grpcStatus: '', downstreamPeer: undefined, upstreamPeer: peer, peerPrincipal: undefined, upstreamEndpoint: undefined,
})));

function timeIt(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < 50_000; i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  process.stdout.write(`${label}: ${ns.toFixed(0)} ns per request\n`);
}

const n = events.length;
const noop = (): void => {};
requestChannel.subscribe(noop);
timeIt('publish to a subscriber that does nothing (baseline)', (i) => requestChannel.publish(events[i % n]));
requestChannel.unsubscribe(noop);
const telemetry = new Telemetry({ origin });
timeIt('publish + record metrics (subscribed recorder)', (i) => requestChannel.publish(events[i % n]));
const samples = events.map((e) => ({ ...e, requestBytes: e.bytesReceived, responseBytes: e.bytesSent }));
timeIt('record metrics only', (i) => {
  const s = samples[i % n];
  if (s) telemetry.metrics.recordRequest(s);
});
const format = accessLogFormatter({ encoding: 'TEXT' });
timeIt('access log line (TEXT, formatting only)', (i) => {
  const e = events[i % n];
  if (e) format({ kind: 'http', event: e });
});
const json = accessLogFormatter({ encoding: 'JSON' });
timeIt('access log line (JSON, formatting only)', (i) => {
  const e = events[i % n];
  if (e) json({ kind: 'http', event: e });
});
telemetry.close();
