/**
 * What the Telemetry API compiles to, applied by two real sidecars (productpage-v1 -> reviews-v2
 * -> app) on loopback: per-side tracing with custom tags, spans exported over OTLP/HTTP into a
 * real trace store; metrics overrides changing what /stats/prometheus says (scraped); access-log
 * filter expressions (CEL) choosing which requests are logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send } from '../test-kit.js';
import { TraceServer, type Span } from '../../telemetry/index.js';
import { startTestMesh, type TestMesh } from './test-mesh.js';
import { parseExposition, sum, type Sample } from './parse.js';

function scrape(proxy: TestMesh['client']): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: proxy.port('prometheus'), path: '/stats/prometheus', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(parseExposition(body).samples));
    }).on('error', reject);
  });
}

/** Polls until `done` holds: events are recorded as responses close, just after the client has them. */
async function until(done: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 300 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10));
}

test('tracing per side: custom tags from a literal, a header, the environment and a formatter; OTLP/HTTP export into the trace store', async (t) => {
  const store = new TraceServer({ zipkinPort: 0, otlpPort: 0 });
  await store.start();
  t.after(() => store.close());
  const mesh = await startTestMesh({
    clientMesh: {
      tracing: {
        samplingPercent: 100,
        otlp: { url: `http://127.0.0.1:${store.ports.otlp}/v1/traces`, timeoutMs: 2000 },
        customTags: { team: { literal: 'bookstore' }, user: { header: 'x-user' }, pod: { environment: 'WEFT_TEST_UNSET_VARIABLE', defaultValue: 'none' }, route: { formatter: '%REQ(:METHOD)% %ROUTE_NAME%' } },
      },
    },
    serverMesh: {
      // The server sidecar's client side would tag `side: client`; its inbound side says otherwise.
      tracing: { samplingPercent: 100, zipkinAddress: `127.0.0.1:${store.ports.zipkin}`, customTags: { side: { literal: 'client' } } },
      inboundTracing: { samplingPercent: 100, zipkinAddress: `127.0.0.1:${store.ports.zipkin}`, customTags: { side: { literal: 'server' } } },
    },
  });
  t.after(() => mesh.close());
  let seen: http.IncomingHttpHeaders = {};
  mesh.app.handle((req, res) => {
    seen = req.headers;
    res.end('ok');
  });
  assert.equal((await send(mesh.client.port('outbound'), { path: 'http://reviews:9080/reviews/1', headers: { 'x-user': 'alice' } })).status, 200);
  const traceId = String(seen['x-b3-traceid']);
  assert.match(traceId, /^[0-9a-f]{32}$/);
  let spans: Span[] = [];
  await until(async () => {
    await Promise.all([mesh.client.proxy.tracer?.flush(), mesh.server.proxy.tracer?.flush()]);
    const res = await fetch(`http://127.0.0.1:${store.ports.zipkin}/api/v2/trace/${traceId}`);
    spans = res.status === 200 ? ((await res.json()) as Span[]) : [];
    return spans.length >= 2;
  });
  const client = spans.find((s) => s.kind === 'CLIENT');
  const server = spans.find((s) => s.kind === 'SERVER');
  assert.ok(client && server, JSON.stringify(spans));
  assert.equal(client.localEndpoint?.serviceName, 'productpage.default');
  assert.deepEqual([client.tags?.team, client.tags?.user, client.tags?.pod, client.tags?.route], ['bookstore', 'alice', 'none', 'GET reviews.default']);
  assert.equal(server.parentId, client.id, 'one trace across both exporters');
  assert.equal(server.tags?.side, 'server', 'the inbound side uses its own settings');
  assert.equal(server.tags?.team, undefined);
  assert.equal(mesh.client.proxy.services.stats.get('tracing.opentelemetry.spans_sent'), 1, 'the client span went over OTLP');
  assert.equal(mesh.client.proxy.services.stats.get('tracing.zipkin.spans_sent'), 0);
});

test('metrics overrides: disabled metrics (HTTP and TCP) disappear, tag overrides add, replace and remove labels per side', async (t) => {
  const mesh = await startTestMesh({
    clientMesh: {
      metrics: {
        client: {
          REQUEST_COUNT: { tags: [{ name: 'request_host', value: 'request.host' }, { name: 'request_protocol', remove: true }, { name: 'source_app', value: "'storefront'" }, { name: 'user', value: "request.headers['x-user']" }] },
          REQUEST_DURATION: { disabled: true },
          TCP_SENT_BYTES: { disabled: true },
        },
        // The client proxy has no inbound side: server overrides change nothing here.
        server: { REQUEST_SIZE: { disabled: true } },
      },
    },
    serverMesh: { metrics: { server: { REQUEST_SIZE: { disabled: true } } } },
  });
  t.after(() => mesh.close());
  const port = mesh.client.port('outbound');
  for (const user of ['alice', 'alice', 'bob']) assert.equal((await send(port, { path: 'http://reviews:9080/reviews/1', headers: { 'x-user': user } })).status, 200);
  assert.equal((await send(port, { path: 'http://reviews:9080/reviews/1' })).status, 200);
  await mesh.tcpRoundTrip('hello mysql');
  await until(async () => sum(await scrape(mesh.client), 'istio_requests_total') === 4 && sum(await scrape(mesh.server), 'istio_requests_total') === 4
    && sum(await scrape(mesh.client), 'istio_tcp_connections_closed_total') === 1);

  const client = await scrape(mesh.client);
  const requests = client.filter((s) => s.name === 'istio_requests_total');
  assert.deepEqual(requests.map((s) => [s.labels.user, s.value]).sort(), [['alice', 2], ['bob', 1], ['unknown', 1]], 'a missing header is "unknown"');
  for (const s of requests) {
    assert.equal(s.labels.request_host, 'reviews:9080');
    assert.equal(s.labels.source_app, 'storefront');
    assert.equal('request_protocol' in s.labels, false);
    assert.equal(s.labels.destination_workload, 'reviews-v2', 'the standard labels stay');
  }
  assert.equal(client.filter((s) => s.name.startsWith('istio_request_duration_milliseconds')).length, 0, 'REQUEST_DURATION is off on the client side');
  assert.equal(sum(client, 'istio_request_bytes_count'), 4, 'other metrics keep their standard labels');
  assert.equal(client.find((s) => s.name === 'istio_request_bytes_count')?.labels.request_protocol, 'http');

  assert.equal(sum(client, 'istio_tcp_received_bytes_total'), 'hello mysql'.length, 'TCP metrics stay');
  assert.equal(client.filter((s) => s.name === 'istio_tcp_sent_bytes_total').length, 0, 'TCP_SENT_BYTES is off on the client side');

  const server = await scrape(mesh.server);
  assert.equal(server.filter((s) => s.name.startsWith('istio_request_bytes')).length, 0, 'REQUEST_SIZE is off on the server side');
  assert.equal(sum(server, 'istio_request_duration_milliseconds_count'), 4);
  assert.equal(server.find((s) => s.name === 'istio_requests_total')?.labels.user, undefined);
});

test('access-log filter expressions: only matching requests are logged, per provider and side', async (t) => {
  const mesh = await startTestMesh({
    clientMesh: { accessLogs: [{ encoding: 'TEXT', file: '/dev/stdout', format: '%RESPONSE_CODE% %REQ(:PATH)%\n', filter: 'response.code >= 400' }] },
    serverMesh: { accessLogs: [{ encoding: 'TEXT', file: '/dev/stdout', format: '%RESPONSE_CODE% %REQ(:PATH)%\n', filter: "request.headers['x-debug'] == 'on' && !connection.mtls && request.url_path.startsWith('/reviews')" }] },
  });
  t.after(() => mesh.close());
  const port = mesh.client.port('outbound');
  assert.equal((await send(port, { path: 'http://reviews:9080/reviews/1' })).status, 200);
  assert.equal((await send(port, { path: 'http://reviews:9080/fail' })).status, 500);
  assert.equal((await send(port, { path: 'http://reviews:9080/reviews/2?x=1', headers: { 'x-debug': 'on' } })).status, 200);
  assert.equal((await send(port, { path: 'http://nowhere:9080/' })).status, 404);
  assert.equal((await send(port, { path: 'http://reviews:9080/fail', headers: { 'x-debug': 'on' } })).status, 500);
  // The last one the server logs: once its line is in, every line before it would be too.
  assert.equal((await send(port, { path: 'http://reviews:9080/reviews/3', headers: { 'x-debug': 'on' } })).status, 200);
  await until(() => mesh.clientLog.length >= 3 && mesh.serverLog.length >= 2);
  assert.deepEqual(mesh.clientLog, ['500 /fail\n', '404 /\n', '500 /fail\n']);
  assert.deepEqual(mesh.serverLog, ['200 /reviews/2?x=1\n', '200 /reviews/3\n']);
});
