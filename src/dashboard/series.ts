/**
 * Rates over time for the dashboard's charts: one edge's series as the control plane keeps it,
 * or a node's, made from the series of the edges into it. The collector keeps series per edge
 * only, so a node's request and error rates are exact sums while its latency is the slowest
 * incoming edge's percentile in each step (percentiles of different edges do not add up);
 * the answer says so in `latency`, and the page labels the chart with it.
 */
import type { EdgePoint, EdgeSeries, ServiceGraph } from '../telemetry/graph/index.js';

export interface NodeSeries {
  node: string;
  /** The incoming edges summed. */
  edges: string[];
  stepSeconds: number;
  /** How p50Ms/p99Ms were made from the edges' percentiles. */
  latency: 'slowest incoming edge';
  points: EdgePoint[];
}

/** The ids of the edges into a node, from a graph over the chart's range. */
export function incomingEdges(graph: ServiceGraph, node: string): string[] {
  return graph.edges.filter((e) => e.target === node).map((e) => e.id).sort();
}

/**
 * Sums edge series taken over the same range and step (so their points line up): request rates
 * add, the error rate is weighted by each edge's requests, latency is the slowest edge's.
 */
export function nodeSeries(node: string, series: EdgeSeries[], stepSeconds: number): NodeSeries {
  const length = Math.max(0, ...series.map((s) => s.points.length));
  const points: EdgePoint[] = [];
  for (let i = 0; i < length; i++) {
    const at = series.map((s) => s.points[i]).filter((p): p is EdgePoint => p !== undefined);
    const requestRate = at.reduce((sum, p) => sum + p.requestRate, 0);
    const errors = at.reduce((sum, p) => sum + p.requestRate * p.errorRate, 0);
    const slowest = (pick: (p: EdgePoint) => number | null) => {
      const values = at.filter((p) => p.requestRate > 0).map(pick).filter((v): v is number => v !== null);
      return values.length ? Math.max(...values) : null;
    };
    points.push({ at: at[0]?.at ?? '', requestRate, errorRate: requestRate > 0 ? errors / requestRate : 0, p50Ms: slowest((p) => p.p50Ms), p99Ms: slowest((p) => p.p99Ms) });
  }
  return { node, edges: series.map((s) => s.edge), stepSeconds: series[0]?.stepSeconds ?? stepSeconds, latency: 'slowest incoming edge', points };
}
