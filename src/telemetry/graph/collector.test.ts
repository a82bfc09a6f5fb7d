/**
 * The scraper against real HTTP servers on loopback: a good proxy's metrics become an edge, and
 * a proxy that hangs, answers too much or answers 500 is listed as failing without holding up the
 * others; at most `concurrency` scrapes are in flight; a round in progress is joined, not doubled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphCollector, type ScrapeTarget } from './index.js';

const LABELS = 'reporter="source",source_workload="sleep",source_workload_namespace="default",destination_workload="httpbin",destination_workload_namespace="default",'
  + 'destination_service="httpbin.default.svc.cluster.local",destination_service_name="httpbin",destination_service_namespace="default",request_protocol="http",response_code="200"';

async function serve(t: { after: (fn: () => void) => void }, handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

const target = (name: string, port: number): ScrapeTarget => ({ id: `${name}.default`, host: '127.0.0.1', port, address: `127.0.0.1:${port}`, namespace: 'default', workload: name, role: 'sidecar' });

test('good proxies give edges; hanging, oversized and failing ones are listed as failing', async (t) => {
  let requests = 0;
  const good = await serve(t, (_req, res) => res.end(`istio_requests_total{${LABELS}} ${(requests += 5)}\n`));
  const hanging = await serve(t, () => {});
  const huge = await serve(t, (_req, res) => res.end('#'.repeat(64 * 1024)));
  const failing = await serve(t, (_req, res) => {
    res.writeHead(500);
    res.end('oops');
  });
  let now = 1_000_000;
  const collector = new GraphCollector({
    targets: () => [target('sleep', good), target('hanging', hanging), target('huge', huge), target('failing', failing)],
    intervalMs: 0, timeoutMs: 300, maxBytes: 16 * 1024, now: () => now,
  });
  t.after(() => collector.stop());
  await collector.scrapeOnce();
  now += 10_000;
  await collector.scrapeOnce();
  const g = collector.graph({ windowMs: 60_000 });
  assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.requestRate]), [
    ['service/default/httpbin', 'workload/default/httpbin', 0.5],
    ['workload/default/sleep', 'service/default/httpbin', 0.5],
  ]);
  assert.equal(g.proxies.scraped, 1);
  assert.deepEqual(g.proxies.failing.map((f) => [f.id, f.error]), [
    ['failing.default', 'HTTP 500'],
    ['hanging.default', 'no answer within 300 ms'],
    ['huge.default', 'answer larger than 16384 bytes'],
  ]);
  assert.equal(g.window, '60s');
});

test('at most `concurrency` scrapes in flight; a round already running is joined', async (t) => {
  let inFlight = 0;
  let most = 0;
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) {
    ports.push(await serve(t, (_req, res) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('');
      }, 20);
    }));
  }
  const collector = new GraphCollector({ targets: () => ports.map((p, i) => target(`w${i}`, p)), intervalMs: 0, concurrency: 2 });
  t.after(() => collector.stop());
  const a = collector.scrapeOnce();
  const b = collector.scrapeOnce();
  assert.equal(a, b);
  await a;
  assert.equal(most, 2);
  assert.equal(collector.history.status().filter((s) => s.lastScrapeAt !== undefined).length, 6);
});

test('stop() ends scrapes in flight and the timer', async (t) => {
  let seen = 0;
  const port = await serve(t, () => void seen++);
  const collector = new GraphCollector({ targets: () => [target('slow', port)], intervalMs: 10, timeoutMs: 60_000 });
  collector.start();
  while (seen === 0) await new Promise((r) => setTimeout(r, 5));
  collector.stop();
  await collector.scrapeOnce();
  assert.match(collector.history.status()[0]?.error ?? '', /socket hang up|aborted/);
  await new Promise((r) => setTimeout(r, 50)); // five intervals: a live timer would have scraped again
  assert.equal(seen, 1);
});

test('an edge over time: its rate in each step, zero where it was idle', async (t) => {
  let count = 0;
  const port = await serve(t, (_req, res) => res.end(`istio_requests_total{${LABELS}} ${count}\n`));
  let now = 0;
  const collector = new GraphCollector({ targets: () => [target('sleep', port)], intervalMs: 0, now: () => now });
  t.after(() => collector.stop());
  for (const [at, n] of [[0, 0], [10_000, 10], [20_000, 10], [30_000, 40]] as const) {
    now = at;
    count = n;
    await collector.scrapeOnce();
  }
  const edge = 'workload/default/sleep->service/default/httpbin:http';
  const series = collector.series({ edge, rangeMs: 30_000, stepMs: 10_000 });
  assert.equal(series.stepSeconds, 10);
  assert.deepEqual(series.points.map((p) => [p.at, p.requestRate]), [['1970-01-01T00:00:10.000Z', 1], ['1970-01-01T00:00:20.000Z', 0], ['1970-01-01T00:00:30.000Z', 3]]);
  assert.deepEqual(collector.series({ edge: 'nowhere', rangeMs: 30_000, stepMs: 10_000 }).points.map((p) => p.requestRate), [0, 0, 0]);
});
