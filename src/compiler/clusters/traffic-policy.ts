/**
 * DestinationRule traffic policy -> cluster settings, as Istio's cluster_traffic_policy.go does it.
 * The policy for one cluster is merged as MergeTrafficPolicy: the top-level policy (with its
 * port-level settings for this port applied), then the subset's fields replacing whole messages,
 * then the subset's port-level settings. Port-level settings replace connectionPool,
 * outlierDetection, loadBalancer and tls WITHOUT inheriting: what they leave out gets the
 * built-in defaults (ISTIO-SEMANTICS §3).
 */
import type { TrafficPolicy, OutlierDetection as DrOutlier, ConnectionPoolSettings } from '../../resources/istio/destination-rule.js';
import type { CircuitBreakers, HashPolicy, LoadBalancer, OutlierDetection } from '../../proxy-config/index.js';

/** The fields a cluster reads; port-level settings are already applied. */
export type EffectivePolicy = Pick<TrafficPolicy, 'connectionPool' | 'loadBalancer' | 'outlierDetection' | 'tls' | 'tunnel' | 'proxyProtocol'>;

export function mergeTrafficPolicy(original: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): EffectivePolicy | undefined {
  if (!subset) return original ? forPort(original, port) : undefined;
  const base: EffectivePolicy = original ? forPort(original, port) : {};
  const merged: EffectivePolicy = {
    connectionPool: subset.connectionPool ?? base.connectionPool,
    loadBalancer: subset.loadBalancer ?? base.loadBalancer,
    outlierDetection: subset.outlierDetection ?? base.outlierDetection,
    tls: subset.tls ?? base.tls,
    tunnel: subset.tunnel ?? base.tunnel,
    proxyProtocol: subset.proxyProtocol ?? base.proxyProtocol,
  };
  return applyPortLevel(merged, subset, port);
}

function forPort(policy: TrafficPolicy, port: number): EffectivePolicy {
  const { portLevelSettings: _p, retryBudget: _r, ...rest } = policy;
  return applyPortLevel(rest, policy, port);
}

function applyPortLevel(merged: EffectivePolicy, policy: TrafficPolicy, port: number): EffectivePolicy {
  const level = policy.portLevelSettings?.find((p) => p.port?.number === port);
  if (!level) return merged;
  return {
    ...merged,
    connectionPool: level.connectionPool,
    outlierDetection: level.outlierDetection,
    loadBalancer: level.loadBalancer,
    tls: level.tls,
  };
}

const MAX = 4294967295;

/** Envoy's and Istio's defaults where a pool setting is absent (ISTIO-SEMANTICS §3). */
export function circuitBreakers(pool: ConnectionPoolSettings | undefined): CircuitBreakers {
  return {
    maxConnections: pool?.tcp?.maxConnections || MAX,
    maxPendingRequests: pool?.http?.http1MaxPendingRequests || MAX,
    maxRequests: pool?.http?.http2MaxRequests || MAX,
    maxRetries: pool?.http?.maxRetries || MAX,
    maxRequestsPerConnection: pool?.http?.maxRequestsPerConnection ?? 0,
  };
}

export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

/** LEAST_REQUEST unless set; LEAST_CONN is its deprecated name. */
export function loadBalancer(policy: EffectivePolicy | undefined, passthrough: boolean): LoadBalancer {
  if (passthrough) return { policy: 'PASSTHROUGH' };
  const lb = policy?.loadBalancer;
  const hash = lb?.consistentHash;
  if (hash) {
    if (hash.maglev) return { policy: 'MAGLEV', tableSize: hash.maglev.tableSize || 65537 };
    return { policy: 'RING_HASH', minimumRingSize: hash.ringHash?.minimumRingSize || hash.minimumRingSize || 1024 };
  }
  switch (lb?.simple) {
    case 'ROUND_ROBIN': return { policy: 'ROUND_ROBIN' };
    case 'RANDOM': return { policy: 'RANDOM' };
    case 'PASSTHROUGH': return { policy: 'PASSTHROUGH' };
    default: return { policy: 'LEAST_REQUEST' };
  }
}

/** The route-side half of consistent hashing: what to hash on. */
export function hashPolicy(policy: EffectivePolicy | undefined): HashPolicy | undefined {
  const hash = policy?.loadBalancer?.consistentHash;
  if (!hash) return undefined;
  if (hash.httpHeaderName) return { header: hash.httpHeaderName.toLowerCase() };
  if (hash.httpCookie) {
    return { cookie: { name: hash.httpCookie.name, ...(hash.httpCookie.path ? { path: hash.httpCookie.path } : {}), ...(hash.httpCookie.ttl !== undefined ? { ttlMs: hash.httpCookie.ttl } : {}) } };
  }
  if (hash.useSourceIp) return { sourceIp: true };
  if (hash.httpQueryParameterName) return { queryParameter: hash.httpQueryParameterName };
  return undefined;
}

/** Only when configured; inside it Istio's defaults apply (ISTIO-SEMANTICS §3). */
export function outlierDetection(od: DrOutlier | undefined): OutlierDetection | undefined {
  if (!od) return undefined;
  // The deprecated consecutiveErrors counts gateway errors only (istio/api#617).
  const legacy = od.consecutiveErrors ?? 0;
  return {
    consecutive5xxErrors: legacy > 0 && od.consecutive5xxErrors === undefined ? 0 : od.consecutive5xxErrors ?? 5,
    consecutiveGatewayErrors: od.consecutiveGatewayErrors ?? (legacy > 0 ? legacy : 0),
    consecutiveLocalOriginFailures: od.consecutiveLocalOriginFailures ?? 5,
    splitExternalLocalOriginErrors: od.splitExternalLocalOriginErrors ?? false,
    intervalMs: od.interval ?? 10_000,
    baseEjectionTimeMs: od.baseEjectionTime ?? 30_000,
    maxEjectionPercent: od.maxEjectionPercent ?? 10,
    minHealthPercent: od.minHealthPercent ?? 0,
  };
}
