/**
 * DestinationRule traffic policy -> cluster settings, as Istio's cluster_traffic_policy.go does it.
 * The policy for one cluster is merged as MergeTrafficPolicy: the top-level policy (with its
 * port-level settings for this port applied), then the subset's fields replacing whole messages,
 * then the subset's port-level settings. Port-level settings replace connectionPool,
 * outlierDetection, loadBalancer and tls WITHOUT inheriting: what they leave out gets the
 * built-in defaults (ISTIO-SEMANTICS §3).
 */
import type { TrafficPolicy, OutlierDetection as DrOutlier, ConnectionPoolSettings } from '../../resources/istio/destination-rule.js';
import type { Cluster, CircuitBreakers, HashPolicy, LoadBalancer, OutlierDetection, TcpKeepalive } from '../../proxy-config/index.js';
import type { MeshLocalityLbSetting, MeshOptions } from '../../registry/index.js';

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
    const c = hash.httpCookie;
    const attributes = c.attributes?.map((a) => ({ name: a.name, ...(a.value ? { value: a.value } : {}) }));
    return { cookie: { name: c.name, ...(c.path ? { path: c.path } : {}), ...(c.ttl !== undefined ? { ttlMs: c.ttl } : {}), ...(attributes?.length ? { attributes } : {}) } };
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

/**
 * The locality load balancing setting for a cluster, as Istio's GetLocalityLbSetting: the
 * DestinationRule's (after subset and port-level merging) unless it says `enabled: false`, else
 * the mesh default unless that is disabled. Istio's mesh default is `{enabled: true}`.
 */
export function localityLbSetting(policy: EffectivePolicy | undefined, mesh: MeshLocalityLbSetting | undefined): MeshLocalityLbSetting | undefined {
  const own = policy?.loadBalancer?.localityLbSetting;
  if (own) return own.enabled === false ? undefined : own;
  if (!mesh || mesh.enabled === false) return undefined;
  return mesh;
}

/**
 * The upstream protocol of an outbound cluster after Istio's shouldH2Upgrade: a DestinationRule's
 * UPGRADE upgrades whatever the port (the user vouches it is HTTP, e.g. a sniffed port),
 * DO_NOT_UPGRADE keeps it, and DEFAULT (or none) defers to meshConfig.h2UpgradePolicy, which
 * upgrades only ports declared HTTP. Inbound clusters are never upgraded; TCP stays TCP.
 */
export function h2Upgrade(protocol: Cluster['protocol'], pool: ConnectionPoolSettings | undefined, mesh: Pick<MeshOptions, 'h2UpgradePolicy'>): Cluster['protocol'] {
  if (protocol === 'tcp' || protocol === 'http2') return protocol;
  const override = pool?.http?.h2UpgradePolicy;
  if (override === 'UPGRADE') return 'http2';
  if (override === 'DO_NOT_UPGRADE') return protocol;
  return protocol === 'http1' && mesh.h2UpgradePolicy === 'UPGRADE' ? 'http2' : protocol;
}

/**
 * SO_KEEPALIVE for a cluster, as Istio's applyTCPKeepalive: meshConfig.tcpKeepalive first, then
 * each field the DestinationRule's tcpKeepalive sets replaces the mesh's (a field at a time, not
 * the whole message). Either present, even empty, turns keepalive on with the OS's timings for
 * what is unset. Envoy takes whole seconds for the durations, so they are truncated to them.
 */
export function tcpKeepalive(pool: ConnectionPoolSettings | undefined, mesh: Pick<MeshOptions, 'tcpKeepalive'>): { tcpKeepalive?: TcpKeepalive } {
  const layers = [mesh.tcpKeepalive, pool?.tcp?.tcpKeepalive].filter((k) => k !== undefined);
  if (layers.length === 0) return {};
  const out: TcpKeepalive = {};
  for (const k of layers) {
    if (k.probes) out.probes = k.probes;
    if (k.time !== undefined) out.timeMs = wholeSeconds(k.time);
    if (k.interval !== undefined) out.intervalMs = wholeSeconds(k.interval);
  }
  return { tcpKeepalive: out };
}

const wholeSeconds = (ms: number): number => Math.floor(ms / 1000) * 1000;
