/**
 * A service's own latency: two callers' proxies (real HTTP servers on loopback, scraped by the
 * collector) send requests to reviews, one fast and one slow. The service's p50/p99 come from
 * both callers' duration buckets merged before the quantile, as Prometheus'
 * `histogram_quantile(q, sum by (le) (rate(istio_request_duration_milliseconds_bucket[w])))`
 * answers, checked against numbers worked out by hand below; the slowest caller's percentile
 * (what the dashboard showed before) would be wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphCollector, type ScrapeTarget } from './index.js';

const BOUNDS = [1, 5, 10, 25, 50, 100, 250];

/** Istio's request counter and duration histogram for one series; `durations` in ms, one per request. */
function requests(source: string, code: string, durations: number[]): string {
  const labels = `reporter="source",source_workload="${source}",source_workload_namespace="default",destination_workload="reviews-v1",destination_workload_namespace="default",`
    + `destination_service="reviews.default.svc.cluster.local",destination_service_name="reviews",destination_service_namespace="default",request_protocol="http",response_code="${code}"`;
  let out = `istio_requests_total{${labels}} ${durations.length}\n`;
  for (const b of BOUNDS) out += `istio_request_duration_milliseconds_bucket{${labels},le="${b}"} ${durations.filter((d) => d <= b).length}\n`;
  return `${out}istio_request_duration_milliseconds_bucket{${labels},le="+Inf"} ${durations.length}\n`;
}

async function proxy(t: { after: (fn: () => void) => void }, text: () => string): Promise<number> {
  const server = http.createServer((_req, res) => res.end(text()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

const target = (workload: string, port: number): ScrapeTarget => ({ id: `${workload}-0.default`, host: '127.0.0.1', port, address: `127.0.0.1:${port}`, namespace: 'default', workload, role: 'sidecar' });

test('a service\'s p50/p99 come from its incoming edges\' histograms merged, per step over time', async (t) => {
  // Cumulative counters as each proxy reports them at 0 s, 10 s and 20 s.
  const fast: string[] = [
    '',
    requests('productpage-v1', '200', [...Array(8).fill(3), 7, 7]),
    requests('productpage-v1', '200', [...Array(18).fill(3), 7, 7]),
  ];
  const slow: string[] = [
    '',
    requests('ratings-v1', '200', Array(8).fill(40)) + requests('ratings-v1', '503', [40, 40]),
    requests('ratings-v1', '200', Array(8).fill(40)) + requests('ratings-v1', '503', [40, 40]),
  ];
  let scrape = 0;
  const a = await proxy(t, () => fast[scrape] ?? '');
  const b = await proxy(t, () => slow[scrape] ?? '');
  let now = 0;
  const collector = new GraphCollector({ targets: () => [target('productpage-v1', a), target('ratings-v1', b)], intervalMs: 0, now: () => now });
  t.after(() => collector.stop());
  for (scrape = 0; scrape < 3; scrape++) {
    now = scrape * 10_000;
    await collector.scrapeOnce();
  }

  // First 10 s: 20 requests into reviews. Merged buckets: (1,5] 8, (5,10] 2, (25,50] 10.
  //   p50: rank 10 is the last of (5,10]: 5 + 5 * (10 - 8) / 2 = 10.
  //   p99: rank 19.8 falls in (25,50] after 10: 25 + 25 * (19.8 - 10) / 10 = 49.5.
  // The slowest caller's percentiles would say p50 37.5 (ratings: 25 + 25 * 5 / 10) and p99 49.75.
  // Next 10 s: productpage's 10 requests at 3 ms, all in (1,5]:
  //   p50: 1 + 4 * 5 / 10 = 3; p99: 1 + 4 * 9.9 / 10 = 4.96.
  const node = 'service/default/reviews';
  const series = collector.serviceSeries({ node, rangeMs: 20_000, stepMs: 10_000 });
  assert.deepEqual(series.points.map((p) => [p.at, p.requestRate, p.errorRate, p.p50Ms, p.p99Ms]), [
    ['1970-01-01T00:00:10.000Z', 2, 0.1, 10, 49.5],
    ['1970-01-01T00:00:20.000Z', 1, 0, 3, 4.96],
  ]);
  assert.deepEqual(series.edges, ['workload/default/productpage-v1->service/default/reviews:http', 'workload/default/ratings-v1->service/default/reviews:http']);
  assert.equal(series.latency, 'merged histogram');

  // The graph over the first 10 s: the node carries the merged numbers, each edge its own.
  now = 10_000;
  const g = collector.graph({ windowMs: 10_000 });
  const reviews = g.nodes.find((n) => n.id === node);
  assert.deepEqual([reviews?.requestRate, reviews?.errorRate, reviews?.p50Ms, reviews?.p99Ms], [2, 0.1, 10, 49.5]);
  const into = g.edges.filter((e) => e.target === node).map((e) => [e.source, e.p50Ms, e.p99Ms]);
  assert.deepEqual(into, [['workload/default/productpage-v1', 3.5, 9.75], ['workload/default/ratings-v1', 37.5, 49.75]]);
  assert.equal(g.nodes.find((n) => n.id === 'workload/default/reviews-v1')?.p99Ms, undefined, 'workloads carry no service numbers');

  assert.deepEqual(collector.serviceSeries({ node: 'service/default/nowhere', rangeMs: 20_000, stepMs: 10_000 }).points.map((p) => [p.requestRate, p.p99Ms]), [[0, null], [0, null]]);
});
