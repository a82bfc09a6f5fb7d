/**
 * The trace store server over real HTTP on loopback: Zipkin v2 JSON and OTLP/HTTP JSON in,
 * Zipkin's query API out with its JSON shapes, clear refusals for what it does not take.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { TraceServer } from './server.js';

async function started(t: { after: (fn: () => Promise<void>) => void }, limits?: { maxSpans?: number; maxTraces?: number }): Promise<TraceServer> {
  const server = new TraceServer({ zipkinPort: 0, otlpPort: 0, ...(limits ? { limits } : {}) });
  await server.start();
  t.after(() => server.close());
  return server;
}

async function post(port: number, path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers });
  return { status: res.status, text: await res.text() };
}

async function get(port: number, path: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  return { status: res.status, json: res.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as unknown) : text };
}

const NOW_US = Date.now() * 1000;
const TRACE = '463ac35c9f6413ad48485a3953bb6124';

function zipkinTrace(): unknown[] {
  return [
    { traceId: TRACE, id: 'a2fb4a1d1a96d312', kind: 'SERVER', name: 'productpage.default.svc.cluster.local:9080/productpage', timestamp: NOW_US, duration: 30_000, localEndpoint: { serviceName: 'istio-ingressgateway.istio-system', ipv4: '10.0.0.1' }, tags: { 'http.status_code': '200', 'http.method': 'GET' } },
    { traceId: TRACE, parentId: 'a2fb4a1d1a96d312', id: '0020000000000001', kind: 'SERVER', name: 'productpage.default.svc.cluster.local:9080/*', timestamp: NOW_US + 1000, duration: 25_000, localEndpoint: { serviceName: 'productpage.default' }, tags: { 'http.status_code': '200' } },
    { traceId: TRACE, parentId: '0020000000000001', id: '0020000000000002', kind: 'CLIENT', name: 'reviews.default.svc.cluster.local:9080/*', timestamp: NOW_US + 2000, duration: 10_000, localEndpoint: { serviceName: 'productpage.default' }, remoteEndpoint: { serviceName: 'reviews.default', ipv4: '10.0.0.7', port: 9080 }, tags: { 'http.status_code': '503', error: 'true', response_flags: 'UF' } },
  ];
}

test('Zipkin v2 JSON in; services, span names, remote services, one trace out with Zipkin\'s shapes', async (t) => {
  const server = await started(t);
  const { zipkin } = server.ports;
  const r = await post(zipkin, '/api/v2/spans', JSON.stringify(zipkinTrace()));
  assert.equal(r.status, 202);
  assert.equal(r.text, '');
  assert.deepEqual((await get(zipkin, '/api/v2/services')).json, ['istio-ingressgateway.istio-system', 'productpage.default']);
  assert.deepEqual((await get(zipkin, '/api/v2/spans?serviceName=productpage.default')).json, ['productpage.default.svc.cluster.local:9080/*', 'reviews.default.svc.cluster.local:9080/*']);
  assert.deepEqual((await get(zipkin, '/api/v2/remoteServices?serviceName=productpage.default')).json, ['reviews.default']);
  const trace = (await get(zipkin, `/api/v2/trace/${TRACE}`)) as { status: number; json: { id: string; parentId?: string }[] };
  assert.equal(trace.status, 200);
  assert.deepEqual(trace.json.map((s) => [s.id, s.parentId]), [['a2fb4a1d1a96d312', undefined], ['0020000000000001', 'a2fb4a1d1a96d312'], ['0020000000000002', '0020000000000001']]);
  assert.deepEqual(trace.json[2], zipkinTrace()[2]);
  const missing = await get(zipkin, '/api/v2/trace/00000000000000000000000000000abc');
  assert.equal(missing.status, 404);
  assert.equal((await get(zipkin, '/api/v2/trace/xyz')).status, 400);
  assert.deepEqual((await get(zipkin, '/api/v2/dependencies?endTs=' + (Date.now() + 1000))).json, [
    { parent: 'istio-ingressgateway.istio-system', child: 'productpage.default', callCount: 1 },
    { parent: 'productpage.default', child: 'reviews.default', callCount: 1, errorCount: 1 },
  ]);
});

test('trace search: serviceName, spanName, annotationQuery, durations, time window, limit', async (t) => {
  const server = await started(t);
  const { zipkin } = server.ports;
  await post(zipkin, '/api/v2/spans', JSON.stringify(zipkinTrace()));
  const other = { traceId: 'b'.repeat(16), id: 'c'.repeat(16), kind: 'SERVER', name: 'ratings.default.svc.cluster.local:9080/*', timestamp: NOW_US + 5000, duration: 2000, localEndpoint: { serviceName: 'ratings.default' } };
  await post(zipkin, '/api/v2/spans', gzipSync(JSON.stringify([other])), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  const ids = async (query: string): Promise<string[]> => ((await get(zipkin, `/api/v2/traces?${query}`)).json as { traceId: string }[][]).map((tr) => tr[0]?.traceId ?? '');
  assert.deepEqual(await ids(''), ['b'.repeat(16), TRACE], 'newest first');
  assert.deepEqual(await ids('limit=1'), ['b'.repeat(16)]);
  assert.deepEqual(await ids('serviceName=productpage.default'), [TRACE]);
  assert.deepEqual(await ids('serviceName=productpage.default&spanName=reviews.default.svc.cluster.local:9080/*'), [TRACE]);
  assert.deepEqual(await ids('serviceName=ratings.default&spanName=reviews.default.svc.cluster.local:9080/*'), []);
  assert.deepEqual(await ids('serviceName=productpage.default&spanName=all'), [TRACE]);
  assert.deepEqual(await ids(`annotationQuery=${encodeURIComponent('error and response_flags=UF')}`), [TRACE]);
  assert.deepEqual(await ids(`annotationQuery=${encodeURIComponent('response_flags=UH')}`), []);
  assert.deepEqual(await ids('minDuration=20000'), [TRACE]);
  assert.deepEqual(await ids('serviceName=ratings.default&minDuration=20000'), []);
  assert.deepEqual(await ids('maxDuration=2500'), ['b'.repeat(16)]);
  assert.deepEqual(await ids(`endTs=${Math.floor(NOW_US / 1000) - 60_000}&lookback=60000`), [], 'outside the window');
  assert.equal((await get(zipkin, '/api/v2/traces?limit=ten')).status, 400);
  assert.equal((await get(zipkin, '/api/v2/spans')).status, 400, 'serviceName is required');
  const many = (await get(zipkin, `/api/v2/traceMany?traceIds=${TRACE},${'b'.repeat(16)}`)).json as unknown[][];
  assert.equal(many.length, 2);
});

test('OTLP/HTTP JSON in on the OTLP port: service.name, kinds, attributes, status and events as Zipkin has them', async (t) => {
  const server = await started(t);
  const start = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'Checkout' } }] },
      scopeSpans: [{
        scope: { name: 'io.opentelemetry.http', version: '1.2' },
        spans: [
          { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'GET /cart', kind: 2, startTimeUnixNano: String(start), endTimeUnixNano: String(start + 4_000_000n), attributes: [{ key: 'http.response.status_code', value: { intValue: '500' } }, { key: 'retry', value: { boolValue: true } }], status: { code: 2, message: 'boom' }, events: [{ timeUnixNano: String(start + 1_000_000n), name: 'cache miss' }] },
          { traceId: 'W47/95gDgQPSabYzgT/GDA==', spanId: 'AAAAAAAAAAE=', parentSpanId: 'eee19b7ec3c1b174', name: 'SELECT', kind: 'SPAN_KIND_CLIENT', startTimeUnixNano: String(start + 1_000_000n), endTimeUnixNano: String(start + 2_000_000n), attributes: [{ key: 'peer.service', value: { stringValue: 'postgres' } }] },
        ],
      }],
    }],
  };
  const r = await post(server.ports.otlp, '/v1/traces', JSON.stringify(body));
  assert.equal(r.status, 200);
  assert.equal(r.text, '{}');
  const trace = (await get(server.ports.zipkin, '/api/v2/trace/5b8efff798038103d269b633813fc60c')).json as Record<string, unknown>[];
  assert.deepEqual(trace[0], {
    traceId: '5b8efff798038103d269b633813fc60c', id: 'eee19b7ec3c1b174', kind: 'SERVER', name: 'get /cart',
    timestamp: Number(start / 1000n), duration: 4000, localEndpoint: { serviceName: 'checkout' },
    tags: { 'http.response.status_code': '500', retry: 'true', 'otel.scope.name': 'io.opentelemetry.http', 'otel.scope.version': '1.2', 'otel.status_code': 'ERROR', error: 'boom' },
    annotations: [{ timestamp: Number(start / 1000n) + 1000, value: 'cache miss' }],
  });
  assert.deepEqual([trace[1]?.id, trace[1]?.parentId, trace[1]?.kind, trace[1]?.remoteEndpoint], ['0000000000000001', 'eee19b7ec3c1b174', 'CLIENT', { serviceName: 'postgres' }]);
});

test('refusals: protobuf and thrift are 415 saying JSON is needed, malformed JSON and bad ids are 400 naming the field', async (t) => {
  const server = await started(t);
  const { zipkin, otlp } = server.ports;
  const proto = await post(otlp, '/v1/traces', Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
  assert.equal(proto.status, 415);
  assert.match(proto.text, /OTLP protobuf is not supported/);
  assert.equal((await post(zipkin, '/api/v2/spans', 'x', { 'content-type': 'application/x-thrift' })).status, 415);
  const malformed = await post(zipkin, '/api/v2/spans', '[{');
  assert.equal(malformed.status, 400);
  assert.match(malformed.text, /malformed JSON/);
  const badId = await post(zipkin, '/api/v2/spans', JSON.stringify([{ traceId: TRACE, id: 'a' }, { traceId: 'zz', id: 'b' }]));
  assert.equal(badId.status, 400);
  assert.match(badId.text, /spans\[1\]\.traceId: expected 1 to 32 hex digits/);
  assert.equal(server.store.spanCount, 0, 'a rejected batch stores nothing');
  assert.equal((await get(zipkin, '/nope')).status, 404);
});

test('memory stays bounded: past the span or trace limit the oldest traces go', async (t) => {
  const server = await started(t, { maxSpans: 50, maxTraces: 8 });
  const { zipkin } = server.ports;
  const span = (trace: number, id: number) => ({ traceId: (trace + 1).toString(16).padStart(32, '0'), id: (id + 1).toString(16).padStart(16, '0'), name: 'op', timestamp: NOW_US + trace, duration: 1, localEndpoint: { serviceName: `svc${trace}` } });
  for (let i = 0; i < 20; i++) await post(zipkin, '/api/v2/spans', JSON.stringify([span(i, 0), span(i, 1)]));
  assert.equal(server.store.traceCount, 8);
  assert.equal(server.store.spanCount, 16);
  assert.equal(server.store.evictedTraces, 12);
  assert.equal((await get(zipkin, `/api/v2/trace/${(1).toString(16).padStart(32, '0')}`)).status, 404, 'the oldest went');
  assert.equal((await get(zipkin, `/api/v2/trace/${(20).toString(16).padStart(32, '0')}`)).status, 200);
  assert.equal(((await get(zipkin, '/api/v2/services')).json as string[]).length, 8, 'evicted services leave the index');
  await post(zipkin, '/api/v2/spans', JSON.stringify(Array.from({ length: 60 }, (_, i) => span(100, i))));
  assert.ok(server.store.spanCount <= 50);
  assert.equal(server.store.traceCount, 0, 'a single trace larger than the bound is not kept');
});
