/**
 * Istio's metrics and access logs from two real sidecars (productpage-v1 -> reviews-v2 -> app)
 * on loopback: after requests with known outcomes, both proxies' /stats/prometheus are scraped
 * and read back, and each reporter's series must carry both workloads (the metadata exchange),
 * the codes and the flags; the TCP counters follow a tunnelled connection; access log lines
 * parse back into the fields they were written from.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send } from '../test-kit.js';
import { startTestMesh, type TestMesh } from './test-mesh.js';
import { parseExposition, sum, type Sample } from './parse.js';
import { DEFAULT_BUCKETS } from './prometheus.js';

let mesh: TestMesh;

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

async function scrape(proxy: TestMesh['client']): Promise<Sample[]> {
  const r = await get(proxy.port('prometheus'), '/stats/prometheus');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.body).samples;
}

/** Polls until `done` holds: events are recorded when the proxy closes a response, just after the client has it. */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10));
}

const REQUESTS = { ok: 3, fail: 2, noRoute: 1, unreachable: 1 };

before(async () => {
  mesh = await startTestMesh();
  const port = mesh.client.port('outbound');
  for (let i = 0; i < REQUESTS.ok; i++) assert.equal((await send(port, { path: 'http://reviews:9080/reviews/1', headers: { 'user-agent': 'test-agent', 'x-request-id': `req-${i}` } })).status, 200);
  for (let i = 0; i < REQUESTS.fail; i++) assert.equal((await send(port, { path: 'http://reviews:9080/fail' })).status, 500);
  assert.equal((await send(port, { path: 'http://nowhere:9080/' })).status, 404);
  assert.equal((await send(port, { path: 'http://ratings:9080/ratings/1' })).status, 503);
  await mesh.tcpRoundTrip('hello mysql');
  const total = REQUESTS.ok + REQUESTS.fail + REQUESTS.noRoute + REQUESTS.unreachable;
  await until(async () => sum(await scrape(mesh.client), 'istio_requests_total') === total
    && sum(await scrape(mesh.server), 'istio_requests_total') === REQUESTS.ok + REQUESTS.fail
    && sum(await scrape(mesh.client), 'istio_tcp_connections_closed_total') === 1);
});

after(() => mesh.close());

test('the client sidecar reports as source, with the server workload learned from the metadata exchange', async () => {
  const samples = await scrape(mesh.client);
  const ok = samples.filter((s) => s.name === 'istio_requests_total' && s.labels.response_code === '200');
  assert.equal(ok.length, 1);
  assert.deepEqual(ok[0]?.labels, {
    reporter: 'source',
    source_workload: 'productpage-v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1', source_workload_namespace: 'default',
    source_principal: 'unknown', source_app: 'productpage', source_version: 'v1', source_cluster: 'Kubernetes',
    destination_workload: 'reviews-v2', destination_workload_namespace: 'default', destination_principal: 'unknown', destination_app: 'reviews',
    destination_version: 'v2', destination_service: 'reviews.default.svc.cluster.local', destination_canonical_service: 'reviews', destination_canonical_revision: 'v2',
    destination_service_name: 'reviews', destination_service_namespace: 'default', destination_cluster: 'Kubernetes',
    request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-', connection_security_policy: 'unknown',
  });
  assert.equal(ok[0]?.value, REQUESTS.ok);
  assert.equal(sum(samples, 'istio_requests_total', { destination_version: 'v2', response_code: '500' }), REQUESTS.fail);
});

test('no route (404 NR) and an unreachable endpoint (503 UF) are reported with their flags', async () => {
  const samples = await scrape(mesh.client);
  assert.equal(sum(samples, 'istio_requests_total', { response_code: '404', response_flags: 'NR', destination_workload: 'unknown', destination_service: 'nowhere:9080' }), 1);
  // No server answered, so no metadata came back; the service is the cluster's. (Istio would also name the
  // endpoint's workload here; the upstream side does not report which endpoint failed.)
  assert.equal(sum(samples, 'istio_requests_total', { response_code: '503', response_flags: 'UF', destination_workload: 'unknown', destination_service: 'ratings.default.svc.cluster.local', destination_service_name: 'ratings' }), 1);
});

test('the server sidecar reports as destination, with the client workload from the request', async () => {
  const samples = await scrape(mesh.server);
  const ok = samples.find((s) => s.name === 'istio_requests_total' && s.labels.response_code === '200');
  assert.deepEqual(ok?.labels, {
    reporter: 'destination',
    source_workload: 'productpage-v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1', source_workload_namespace: 'default',
    source_principal: 'unknown', source_app: 'productpage', source_version: 'v1', source_cluster: 'Kubernetes',
    destination_workload: 'reviews-v2', destination_workload_namespace: 'default', destination_principal: 'unknown', destination_app: 'reviews',
    destination_version: 'v2', destination_service: 'reviews.default.svc.cluster.local', destination_canonical_service: 'reviews', destination_canonical_revision: 'v2',
    destination_service_name: 'reviews', destination_service_namespace: 'default', destination_cluster: 'Kubernetes',
    request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-', connection_security_policy: 'none',
  });
  assert.equal(ok?.value, REQUESTS.ok);
  assert.equal(sum(samples, 'istio_requests_total', { reporter: 'destination', source_app: 'productpage', response_code: '500' }), REQUESTS.fail);
});

test('the exchange headers reach neither app: stripped on both sides', () => {
  for (const r of mesh.app.received) {
    assert.equal(r.headers['x-envoy-peer-metadata'], undefined);
    assert.equal(r.headers['x-envoy-peer-metadata-id'], undefined);
  }
});

test('histograms: Envoy buckets, cumulative, +Inf equal to _count, counts summing to the requests', async () => {
  for (const [proxy, n] of [[mesh.client, 7], [mesh.server, 5]] as const) {
    const samples = await scrape(proxy);
    for (const name of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      assert.equal(sum(samples, `${name}_count`), n, name);
      assert.equal(sum(samples, `${name}_bucket`, { le: '+Inf' }), n, name);
      const oneSeries = samples.filter((s) => s.name === `${name}_bucket` && s.labels.response_code === '200');
      assert.deepEqual(oneSeries.map((s) => s.labels.le), [...DEFAULT_BUCKETS.map((b) => (b === 1800000 ? '1.8e+06' : b === 3600000 ? '3.6e+06' : String(b))), '+Inf']);
      const values = oneSeries.map((s) => s.value);
      assert.deepEqual(values, [...values].sort((a, b) => a - b), 'cumulative');
    }
    assert.ok(sum(samples, 'istio_response_bytes_sum', { response_code: '200' }) > 0);
  }
});

test('TCP: a tunnelled connection counts opened, closed and bytes both ways; the endpoint names the workload', async () => {
  const samples = await scrape(mesh.client);
  const match = { reporter: 'source', request_protocol: 'tcp', destination_workload: 'mysql-v1', destination_workload_namespace: 'db', destination_service: 'mysql.default.svc.cluster.local' };
  assert.equal(sum(samples, 'istio_tcp_connections_opened_total', match), 1);
  assert.equal(sum(samples, 'istio_tcp_connections_closed_total', match), 1);
  assert.equal(sum(samples, 'istio_tcp_received_bytes_total', match), 'hello mysql'.length);
  assert.equal(sum(samples, 'istio_tcp_sent_bytes_total', match), 'hello mysql'.length);
  const tcp = samples.find((s) => s.name === 'istio_tcp_connections_opened_total');
  assert.equal(tcp?.labels.response_code, undefined);
});

test('TCP: a long-lived connection counts open and its bytes at every scrape, before it closes', async () => {
  const match = { request_protocol: 'tcp', destination_workload: 'mysql-v1' };
  const socket = await mesh.tcpOpen('ping!');
  let samples = await scrape(mesh.client);
  assert.equal(sum(samples, 'istio_tcp_connections_opened_total', match), 2);
  assert.equal(sum(samples, 'istio_tcp_connections_closed_total', match), 1);
  assert.equal(sum(samples, 'istio_tcp_received_bytes_total', match), 'hello mysql'.length + 5);
  assert.equal(sum(samples, 'istio_tcp_sent_bytes_total', match), 'hello mysql'.length + 5);
  socket.end();
  await until(async () => sum(await scrape(mesh.client), 'istio_tcp_connections_closed_total', match) === 2);
  samples = await scrape(mesh.client);
  assert.equal(sum(samples, 'istio_tcp_connections_closed_total', match), 2);
  assert.equal(sum(samples, 'istio_tcp_received_bytes_total', match), 'hello mysql'.length + 5);
});

test('istio_build and the TYPE lines are there', async () => {
  const r = await get(mesh.client.port('prometheus'), '/stats/prometheus');
  const { types, samples } = parseExposition(r.body);
  assert.equal(types.get('istio_requests_total'), 'counter');
  assert.equal(types.get('istio_request_duration_milliseconds'), 'histogram');
  assert.equal(types.get('istio_tcp_sent_bytes_total'), 'counter');
  assert.equal(types.get('istio_build'), 'gauge');
  assert.equal(sum(samples, 'istio_build', { component: 'proxy' }), 1);
  assert.equal((await get(mesh.client.port('prometheus'), '/other')).status, 404);
});

// `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ...`
const TEXT_LINE = /^\[(\S+)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) (\S+) (\S+) "([^"]*)" (\d+) (\d+) (\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\n$/;

test('access log: Istio\'s default TEXT format, one line per request and connection, parsed back', () => {
  // Seven requests and the two TCP connections of the tests above.
  assert.equal(mesh.clientLog.length, 9);
  const parsed = mesh.clientLog.map((l) => {
    const m = TEXT_LINE.exec(l);
    assert.ok(m, `not Istio's format: ${l}`);
    return m;
  });
  const ok = parsed.find((m) => m[16] === 'req-0');
  assert.ok(ok);
  assert.ok(!Number.isNaN(Date.parse(ok[1] ?? '')));
  assert.deepEqual([ok[2], ok[3], ok[4], ok[5], ok[6], ok[7]], ['GET', '/reviews/1', 'HTTP/1.1', '200', '-', 'via_upstream']);
  assert.deepEqual([ok[15], ok[17], ok[19], ok[24]], ['test-agent', 'reviews:9080', 'outbound|9080||reviews.default.svc.cluster.local', 'reviews.default']);
  assert.match(ok[13] ?? '', /^\d+$/); // x-envoy-upstream-service-time
  const uf = parsed.find((m) => m[6] === 'UF');
  assert.equal(uf?.[5], '503');
  const nr = parsed.find((m) => m[6] === 'NR');
  assert.deepEqual([nr?.[5], nr?.[18], nr?.[19]], ['404', '-', '-']);
  // The TCP connection: no method, path or protocol; bytes both ways.
  assert.equal(parsed.filter((m) => m[2] === '-').length, 2);
  const tcp = parsed.find((m) => m[2] === '-');
  assert.deepEqual([tcp?.[3], tcp?.[4], tcp?.[5], tcp?.[10], tcp?.[11], tcp?.[19]], ['-', '-', '0', '11', '11', 'outbound|3306||mysql.default.svc.cluster.local']);
  assert.equal(mesh.serverLog.length, 5);
  assert.ok(mesh.serverLog.every((l) => TEXT_LINE.test(l) && l.includes(' inbound|9080|| ')));
});
