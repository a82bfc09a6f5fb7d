/**
 * What the admin endpoint (and `weft proxy-config endpoints`) can see of the upstream side, in
 * the spirit of Envoy's /clusters: per cluster its limits, counters and overflows, and per
 * endpoint its health, outlier ejection and load.
 */
import type { OutlierStats } from './outlier.js';

export interface EndpointStats {
  address: string;
  port: number;
  weight: number;
  labels: Record<string, string>;
  /** Health as assigned by the control plane (EDS). */
  healthy: boolean;
  /** Ejected by outlier detection right now. */
  ejected: boolean;
  /** When an ejected endpoint may return (clock milliseconds; it does at the next interval). */
  ejectedUntil?: number;
  /** Ejections over the endpoint's lifetime. */
  ejections: number;
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  activeRequests: number;
  pendingRequests: number;
  connections: number;
  requestsTotal: number;
  /** Removed from the cluster, finishing in-flight work. */
  draining: boolean;
}

export interface ClusterCounters {
  /** send() and connect() calls. */
  requests: number;
  /** Attempts, retries included (Envoy's upstream_rq_total). */
  attempts: number;
  /** Retries started (upstream_rq_retry). */
  retries: number;
  /** Route timeouts (UT). */
  timeouts: number;
  perTryTimeouts: number;
  /** No host to send to (UH). */
  noHealthyUpstream: number;
  /** Attempts that failed to connect (UF). */
  connectFailures: number;
}

export interface ClusterStats {
  name: string;
  protocol: string;
  loadBalancer: string;
  /** Healthy share below minHealthPercent: balancing over all hosts (Envoy's panic mode). */
  panic: boolean;
  /** Removed by a config update, finishing in-flight work. */
  draining: boolean;
  endpoints: EndpointStats[];
  activeRequests: number;
  pendingRequests: number;
  connections: number;
  activeRetries: number;
  circuitBreakers: { maxConnections: number; maxPendingRequests: number; maxRequests: number; maxRetries: number; maxRequestsPerConnection: number };
  overflow: { connections: number; pending: number; requests: number; retries: number };
  counters: ClusterCounters;
  outlierDetection?: OutlierStats;
}
