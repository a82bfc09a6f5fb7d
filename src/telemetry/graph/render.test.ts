/**
 * `weft graph`'s per-service section: after the edges, one aligned line per service or external
 * host with HTTP/gRPC traffic, carrying the node's own numbers (the merged histograms), not any
 * one caller's; services reached only over TCP, and workloads, get none; no such service, no
 * section. The graphs are written by hand: rendering is a pure function of one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphEdge, GraphNode } from './compute.js';
import { renderGraph } from './render.js';

const workload = (ns: string, name: string): GraphNode => ({ id: `workload/${ns}/${name}`, kind: 'workload', namespace: ns, name });
const http = (source: string, target: string, n: Partial<GraphEdge>): GraphEdge => ({ id: `${source}->${target}:http`, source, target, protocol: 'http', mtls: true, mtlsPercent: 100, ...n });

test('each service with requests gets its merged rate, errors and p50/p99 after the edges', () => {
  const reviews: GraphNode = { id: 'service/default/reviews', kind: 'service', namespace: 'default', name: 'reviews', requestRate: 2, errorRate: 0.1, p50Ms: 10, p99Ms: 49.5 };
  const ratings: GraphNode = { id: 'service/default/ratings', kind: 'service', namespace: 'default', name: 'ratings', requestRate: 0.25, errorRate: 0, p50Ms: 1.5, p99Ms: null };
  const api: GraphNode = { id: 'external/api.example.com', kind: 'external', namespace: '', name: 'api.example.com', requestRate: 0.5, errorRate: 1, p50Ms: 120, p99Ms: 245 };
  const mysql: GraphNode = { id: 'service/default/mysql', kind: 'service', namespace: 'default', name: 'mysql' };
  const nodes = [workload('default', 'productpage-v1'), workload('default', 'ratings-v1'), workload('default', 'reviews-v1'), reviews, ratings, api, mysql];
  const edges: GraphEdge[] = [
    http('workload/default/productpage-v1', reviews.id, { requestRate: 1, errorRate: 0, p50Ms: 3.5, p99Ms: 9.75 }),
    http('workload/default/ratings-v1', reviews.id, { requestRate: 1, errorRate: 0.2, p50Ms: 37.5, p99Ms: 49.75 }),
    http(reviews.id, 'workload/default/reviews-v1', { requestRate: 2, errorRate: 0.1, p50Ms: 10, p99Ms: 49.5 }),
    http('workload/default/reviews-v1', ratings.id, { requestRate: 0.25, errorRate: 0, p50Ms: 1.5, p99Ms: null }),
    http('workload/default/reviews-v1', api.id, { requestRate: 0.5, errorRate: 1, p50Ms: 120, p99Ms: 245, mtls: false, mtlsPercent: 0 }),
    { id: 'mysql', source: 'workload/default/reviews-v1', target: mysql.id, protocol: 'tcp', tcp: { bytesPerSecond: 2048, sentBytesPerSecond: 2000, receivedBytesPerSecond: 48, connectionsPerSecond: 0.5, activeConnections: 2 }, mtls: true, mtlsPercent: 100 },
  ];
  // reviews' line is its own merged numbers: neither caller's p50 (3.5, 37.5) nor the slowest p99.
  assert.equal(renderGraph({ nodes, edges }), [
    'productpage-v1  ->  svc/reviews          http  1 rps     0.0% err    p50 3.5ms   p99 9.75ms  mTLS',
    'ratings-v1      ->  svc/reviews          http  1 rps     20.0% err   p50 37.5ms  p99 49.8ms  mTLS',
    'svc/reviews     ->  reviews-v1           http  2 rps     10.0% err   p50 10ms    p99 49.5ms  mTLS',
    'reviews-v1      ->  svc/ratings          http  0.25 rps  0.0% err    p50 1.5ms   p99 -       mTLS',
    'reviews-v1      ->  ext/api.example.com  http  0.5 rps   100.0% err  p50 120ms   p99 245ms   plaintext',
    'reviews-v1      ->  svc/mysql            tcp   2 KiB/s   0.5 conn/s  2 open                  mTLS',
    '',
    'services (every caller\'s requests together):',
    'ext/api.example.com  0.5 rps   100.0% err  p50 120ms  p99 245ms',
    'svc/ratings          0.25 rps  0.0% err    p50 1.5ms  p99 -',
    'svc/reviews          2 rps     10.0% err   p50 10ms   p99 49.5ms',
    '',
  ].join('\n'));
});

test('only TCP between services: no service section; names carry namespaces when the graph spans several', () => {
  const mysql: GraphNode = { id: 'service/db/mysql', kind: 'service', namespace: 'db', name: 'mysql' };
  const text = renderGraph({
    nodes: [workload('default', 'reviews-v1'), mysql],
    edges: [{ id: 'm', source: 'workload/default/reviews-v1', target: mysql.id, protocol: 'tcp', tcp: { bytesPerSecond: 10, sentBytesPerSecond: 5, receivedBytesPerSecond: 5, connectionsPerSecond: 1, activeConnections: 0 }, mtls: false, mtlsPercent: 0 }],
  });
  assert.equal(text, 'reviews-v1.default  ->  svc/mysql.db  tcp  10 B/s  1 conn/s  0 open    plaintext\n');
});
