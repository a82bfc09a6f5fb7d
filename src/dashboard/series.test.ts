/**
 * The dashboard's chart API on a real socket: `?edge=` answers with the collector's series for
 * that edge, `?node=` with the service's own series (every request into it, its incoming edges'
 * histograms merged: src/telemetry/graph/service-latency.test.ts proves the merge), and the range
 * and step are checked against the history kept. The collector's answers are fixtures in their
 * documented shape, so this test is about the HTTP side only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeSeries, ServiceSeries } from '../telemetry/graph/index.js';
import { DashboardServer } from './index.js';

const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i * 10)).toISOString();

async function start(t: { after: (fn: () => Promise<void>) => void }, withSeries = true): Promise<{ base: string; asked: unknown[] }> {
  const asked: unknown[] = [];
  const server = new DashboardServer({
    port: 0,
    data: {
      replica: 'istiod-a', resources: () => [], proxies: () => [], configDump: () => undefined,
      graphHistoryMs: 600_000,
      ...(withSeries ? {
        series: (q): EdgeSeries => {
          asked.push(q);
          return { edge: q.edge, stepSeconds: q.stepMs / 1000, points: [0, 2, 4].map((r, i) => ({ at: at(i), requestRate: r, errorRate: 0, p50Ms: null, p99Ms: null })) };
        },
        serviceSeries: (q): ServiceSeries => {
          asked.push(q);
          return { node: q.node, edges: ['a->reviews', 'b->reviews'], stepSeconds: q.stepMs / 1000, latency: 'merged histogram', points: [{ at: at(0), requestRate: 2, errorRate: 0.1, p50Ms: 10, p99Ms: 49.5 }] };
        },
      } : {}),
    },
  });
  const port = await server.listen();
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${port}`, asked };
}

test('GET /api/graph/series answers for an edge and for a service, with range and step checked', async (t) => {
  const { base, asked } = await start(t);
  const edge = await fetch(`${base}/api/graph/series?edge=a-%3Ereviews&range=30s&step=10s`);
  assert.equal(edge.status, 200);
  const e = (await edge.json()) as EdgeSeries;
  assert.equal(e.edge, 'a->reviews');
  assert.deepEqual(e.points.map((p) => p.requestRate), [0, 2, 4]);
  const node = (await (await fetch(`${base}/api/graph/series?node=${encodeURIComponent('service/default/reviews')}&range=30s&step=10s`)).json()) as ServiceSeries;
  assert.equal(node.latency, 'merged histogram');
  assert.deepEqual(node.points.map((p) => [p.requestRate, p.p50Ms, p.p99Ms]), [[2, 10, 49.5]]);
  assert.deepEqual(asked, [{ edge: 'a->reviews', rangeMs: 30_000, stepMs: 10_000 }, { node: 'service/default/reviews', rangeMs: 30_000, stepMs: 10_000 }]);
  for (const [query, message] of [
    ['edge=x&range=1h', /range: 1h is outside 1s\.\.600s/],
    ['edge=x&step=soon', /^step: /],
    ['range=1m', /edge or node is required/],
  ] as const) {
    const res = await fetch(`${base}/api/graph/series?${query}`);
    assert.equal(res.status, 400, query);
    assert.match(((await res.json()) as { error: string }).error, message, query);
  }
  const { base: none } = await start(t, false);
  assert.equal((await fetch(`${none}/api/graph/series?edge=x`)).status, 404);
});
