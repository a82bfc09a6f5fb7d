/**
 * OTLP/HTTP export: the request a collector receives (path, headers from the provider, values
 * from the proxy's environment, OTLP JSON), and that the trace store reads it back as the spans
 * the proxy built (ids, parent, kind, times, tags, error status).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Stats } from '../stats.js';
import { parseOtlpTraces } from '../../telemetry/otlp.js';
import { ZipkinReporter } from './reporter.js';
import { otlpTraceRequest } from './otlp.js';
import type { ZipkinSpan } from './span.js';

const SPAN: ZipkinSpan = {
  traceId: '0123456789abcdef', id: 'aaaaaaaaaaaaaaaa', parentId: 'bbbbbbbbbbbbbbbb', name: 'reviews.default.svc.cluster.local:9080/*',
  kind: 'CLIENT', timestamp: 1_700_000_000_000_123, duration: 4567, localEndpoint: { serviceName: 'productpage.default', ipv4: '10.0.0.1' },
  remoteEndpoint: { serviceName: 'reviews.default', ipv4: '10.0.0.2', port: 9080 }, tags: { 'http.status_code': '503', error: 'true', team: 'bookstore' },
};

// A 64-bit id goes out padded to OTLP's 128 bits; the store, as Zipkin does, reads the zeros away.
test('the trace store reads the OTLP JSON back as the span it was made from', () => {
  const [got] = parseOtlpTraces(JSON.parse(JSON.stringify(otlpTraceRequest([SPAN]))));
  assert.ok(got);
  assert.deepEqual(
    [got.traceId, got.id, got.parentId, got.kind, got.name, got.timestamp, got.duration, got.localEndpoint?.serviceName, got.remoteEndpoint?.serviceName],
    [SPAN.traceId, SPAN.id, SPAN.parentId, 'CLIENT', SPAN.name, SPAN.timestamp, SPAN.duration, 'productpage.default', 'reviews.default'],
  );
  assert.equal(got.tags?.team, 'bookstore');
  assert.equal(got.tags?.error, 'true', 'the error tag travels as an ERROR status');
});

test('the exporter POSTs OTLP JSON to the provider URL with its headers, one taken from the environment', async (t) => {
  const received: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => collector.close(() => r())));
  process.env.WEFT_TEST_OTLP_TOKEN = 'secret-token';
  t.after(() => delete process.env.WEFT_TEST_OTLP_TOKEN);
  const port = (collector.address() as net.AddressInfo).port;
  const stats = new Stats();
  const reporter = new ZipkinReporter({
    address: 'otlp',
    otlp: { url: `http://127.0.0.1:${port}/otlp/v1/traces`, timeoutMs: 1000, headers: [{ name: 'X-Tenant', value: 'shop' }, { name: 'authorization', envName: 'WEFT_TEST_OTLP_TOKEN' }, { name: 'x-absent', envName: 'WEFT_TEST_UNSET' }] },
    stats,
    flushIntervalMs: 60_000,
  });
  t.after(() => reporter.close());
  reporter.report(SPAN);
  await reporter.flush();
  assert.equal(received.length, 1);
  const [req] = received;
  assert.equal(req?.url, '/otlp/v1/traces');
  assert.equal(req?.headers['content-type'], 'application/json');
  assert.equal(req?.headers['x-tenant'], 'shop');
  assert.equal(req?.headers.authorization, 'secret-token');
  assert.equal(req?.headers['x-absent'], undefined);
  const body = JSON.parse(req?.body ?? '{}') as ReturnType<typeof otlpTraceRequest>;
  assert.equal(body.resourceSpans[0]?.resource.attributes[0]?.key, 'service.name');
  assert.equal(body.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.status.code, 2);
  assert.equal(stats.get('tracing.opentelemetry.spans_sent'), 1);
});
