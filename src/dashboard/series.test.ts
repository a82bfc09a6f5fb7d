/**
 * The dashboard's chart API on a real socket: one edge's series as the control plane's
 * collector answers it (a fixture in its documented shape), a service's series as the sum of
 * the edges into it, and the range and step checked against the history kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EdgeSeries, ServiceGraph } from '../telemetry/graph/index.js';
import { DashboardServer } from './index.js';
import { nodeSeries, type NodeSeries } from './series.js';

const GRAPH: ServiceGraph = {
  generatedAt: new Date().toISOString(), window: '5m', windowSeconds: 300,
  nodes: [],
  edges: [
    { id: 'a->reviews', source: 'workload/default/a', target: 'service/default/reviews', protocol: 'http', requestRate: 1, errorRate: 0, mtls: true, mtlsPercent: 100 },
    { id: 'b->reviews', source: 'workload/default/b', target: 'service/default/reviews', protocol: 'http', requestRate: 1, errorRate: 0, mtls: true, mtlsPercent: 100 },
    { id: 'reviews->v1', source: 'service/default/reviews', target: 'workload/default/reviews-v1', protocol: 'http', requestRate: 2, errorRate: 0, mtls: true, mtlsPercent: 100 },
  ],
  proxies: { scraped: 3, failing: [] },
};

/** Per edge: [requestRate, errorRate, p99] for each of three steps. */
const RATES: Record<string, [number, number, number | null][]> = {
  'a->reviews': [[0, 0, null], [2, 0.5, 10], [4, 0, 20]],
  'b->reviews': [[0, 0, null], [2, 0, 30], [0, 0, null]],
};

function series(q: { edge: string; rangeMs: number; stepMs: number }): EdgeSeries {
  const rows = RATES[q.edge] ?? [];
  return {
    edge: q.edge, stepSeconds: q.stepMs / 1000,
    points: rows.map(([requestRate, errorRate, p99Ms], i) => ({ at: new Date(Date.UTC(2026, 0, 1, 0, 0, i * 10)).toISOString(), requestRate, errorRate, p50Ms: p99Ms === null ? null : p99Ms / 2, p99Ms })),
  };
}

async function start(t: { after: (fn: () => Promise<void>) => void }, withSeries = true): Promise<string> {
  const server = new DashboardServer({
    port: 0,
    data: {
      replica: 'istiod-a', resources: () => [], proxies: () => [], configDump: () => undefined,
      graph: () => GRAPH, graphHistoryMs: 600_000,
      ...(withSeries ? { series } : {}),
    },
  });
  const port = await server.listen();
  t.after(() => server.close());
  return `http://127.0.0.1:${port}`;
}

test('a service\'s series sums the edges into it: rates add, errors weighted by requests, latency the slowest edge', () => {
  const s = nodeSeries('service/default/reviews', ['a->reviews', 'b->reviews'].map((edge) => series({ edge, rangeMs: 30_000, stepMs: 10_000 })), 10);
  assert.deepEqual(s.points.map((p) => p.requestRate), [0, 4, 4]);
  assert.deepEqual(s.points.map((p) => p.errorRate), [0, 0.25, 0]);
  assert.deepEqual(s.points.map((p) => p.p99Ms), [null, 30, 20], 'an edge without traffic in a step has no say in its latency');
  assert.deepEqual(s.points.map((p) => p.p50Ms), [null, 15, 10]);
  assert.equal(s.latency, 'slowest incoming edge');
  assert.deepEqual(nodeSeries('service/default/none', [], 10).points, []);
});

test('GET /api/graph/series answers for an edge and for a service, with range and step checked', async (t) => {
  const base = await start(t);
  const edge = await fetch(`${base}/api/graph/series?edge=a-%3Ereviews&range=30s&step=10s`);
  assert.equal(edge.status, 200);
  const e = (await edge.json()) as EdgeSeries;
  assert.equal(e.edge, 'a->reviews');
  assert.deepEqual(e.points.map((p) => p.requestRate), [0, 2, 4]);
  const node = (await (await fetch(`${base}/api/graph/series?node=${encodeURIComponent('service/default/reviews')}&range=30s&step=10s`)).json()) as NodeSeries;
  assert.deepEqual(node.edges, ['a->reviews', 'b->reviews'], 'only the edges into the service');
  assert.deepEqual(node.points.map((p) => p.requestRate), [0, 4, 4]);
  for (const [query, message] of [
    ['edge=x&range=1h', /range: 1h is outside 1s\.\.600s/],
    ['edge=x&step=soon', /^step: /],
    ['range=1m', /edge or node is required/],
  ] as const) {
    const res = await fetch(`${base}/api/graph/series?${query}`);
    assert.equal(res.status, 400, query);
    assert.match(((await res.json()) as { error: string }).error, message, query);
  }
  const none = await start(t, false);
  assert.equal((await fetch(`${none}/api/graph/series?edge=x`)).status, 404);
});
