/**
 * The span reporter never holds traffic up: its queue is bounded (overflow is dropped and
 * counted), a collector that is down costs one failed POST per batch, and a full batch goes out
 * without waiting for the timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Stats } from '../stats.js';
import { TraceServer } from '../../telemetry/index.js';
import { ZipkinReporter, collectorUrl } from './reporter.js';
import type { ZipkinSpan } from './span.js';

function span(i: number): ZipkinSpan {
  return { traceId: 'a'.repeat(32), id: (i + 1).toString(16).padStart(16, '0'), name: 'op', kind: 'SERVER', timestamp: Date.now() * 1000, duration: 5, localEndpoint: { serviceName: 'svc.default' }, tags: {} };
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('collector addresses: Istio\'s host:port, or a URL', () => {
  assert.equal(collectorUrl('zipkin.istio-system:9411').href, 'http://zipkin.istio-system:9411/api/v2/spans');
  assert.equal(collectorUrl('http://127.0.0.1:9411').href, 'http://127.0.0.1:9411/api/v2/spans');
  assert.equal(collectorUrl('http://collector:8080/custom/spans').href, 'http://collector:8080/custom/spans');
});

test('a bounded queue: overflow is dropped and counted; a collector that is down fails the batch, counted', async (t) => {
  const stats = new Stats();
  const reporter = new ZipkinReporter({ address: `127.0.0.1:${await closedPort()}`, stats, maxQueued: 5, batchSize: 100, flushIntervalMs: 60_000 });
  t.after(() => reporter.close());
  for (let i = 0; i < 8; i++) reporter.report(span(i));
  assert.equal(stats.get('tracing.zipkin.spans_dropped'), 3);
  await reporter.flush();
  assert.equal(stats.get('tracing.zipkin.reports_failed'), 1);
  assert.equal(stats.get('tracing.zipkin.spans_dropped'), 8);
  assert.equal(stats.get('tracing.zipkin.spans_sent'), 0);
});

test('a full batch is sent at once; the timer sends a partial one', async (t) => {
  const store = new TraceServer({ zipkinPort: 0, otlpPort: 0 });
  await store.start();
  t.after(() => store.close());
  const stats = new Stats();
  // Sent means answered: the counter moves when the collector's 202 arrives.
  const until = async (sent: number) => {
    while (stats.get('tracing.zipkin.spans_sent') < sent) await new Promise((r) => setTimeout(r, 10));
  };
  const batching = new ZipkinReporter({ address: `127.0.0.1:${store.ports.zipkin}`, stats, batchSize: 3, flushIntervalMs: 3_600_000 });
  t.after(() => batching.close());
  for (let i = 0; i < 3; i++) batching.report(span(i));
  await until(3);
  assert.equal(store.store.spanCount, 3);
  assert.deepEqual([stats.get('tracing.zipkin.spans_sent'), stats.get('tracing.zipkin.reports_sent'), stats.get('tracing.zipkin.timer_flushed')], [3, 1, 0]);
  const timed = new ZipkinReporter({ address: `127.0.0.1:${store.ports.zipkin}`, stats, batchSize: 100, flushIntervalMs: 10 });
  t.after(() => timed.close());
  timed.report(span(3));
  await until(4);
  assert.equal(store.store.spanCount, 4);
  assert.equal(stats.get('tracing.zipkin.timer_flushed'), 1);
});
