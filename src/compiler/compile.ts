/**
 * compileProxyConfig: (snapshot, proxy identity) -> the proxy's whole config. Pure and
 * deterministic: it reads only its arguments, builds everything in a fixed order, and its version
 * is a hash of the content, so the same inputs always give the same bytes and an unchanged config
 * keeps its version (distribution can skip the push).
 * Order: clusters first (routes must know which clusters exist), then listeners and routes.
 */
import { createHash } from 'node:crypto';
import type { Listener, ProxyConfig, ProxyNode, RouteConfiguration, Secret } from '../proxy-config/index.js';
import type { Snapshot } from './snapshot.js';
import { proxyScope } from './scope.js';
import { ClusterSet, mergeSorted } from './clusters/cluster-set.js';
import { builtinClusters } from './clusters/builtin.js';
import { addOutboundClusters } from './clusters/outbound.js';
import { sidecarOutboundListeners } from './listeners/outbound.js';
import { sidecarInbound } from './listeners/inbound.js';
import { gatewayListeners } from './listeners/gateway.js';
import { sidecarRouteConfigs } from './routes/sidecar-routes.js';
import { accessLogConfig } from './telemetry/access-logs.js';
import { tracingConfig } from './telemetry/tracing.js';
import { metricsConfig } from './telemetry/metrics.js';
import { sharedOutbound } from './shared-outbound.js';

export interface CompileOptions {
  /**
   * Set `version` to the content hash (default true). The push server versions what it sends
   * itself (distribution/version.ts), so the control plane skips this: hashing is most of a compile.
   */
  version?: boolean;
  /**
   * Share a sidecar's outbound side with every proxy of the same outbound scope (default true);
   * false builds it afresh, which gives the same config (tests compare the two).
   */
  shareOutbound?: boolean;
}

export function compileProxyConfig(snapshot: Snapshot, proxy: ProxyNode, options: CompileOptions = {}): ProxyConfig {
  const scope = proxyScope(snapshot, proxy);
  let clusters: ClusterSet;
  let listeners: Listener[];
  let routes: RouteConfiguration[];
  if (proxy.role === 'sidecar' && options.shareOutbound !== false) {
    // The outbound side is shared (shared-outbound.ts); only the inbound side is this proxy's own.
    const outbound = sharedOutbound(scope);
    clusters = new ClusterSet(outbound.clusters);
    const inbound = sidecarInbound(scope, clusters);
    listeners = mergeSorted(outbound.listeners, [inbound.listener, ...inbound.ownListeners].sort(byName), nameOf);
    routes = mergeSorted(outbound.routes, [...inbound.routes].sort(byName), nameOf);
  } else {
    clusters = new ClusterSet();
    for (const c of builtinClusters(snapshot.mesh, proxy.role === 'sidecar')) clusters.add(c);
    addOutboundClusters(scope, clusters);
    if (proxy.role === 'sidecar') {
      const inbound = sidecarInbound(scope, clusters);
      listeners = [...sidecarOutboundListeners(scope, clusters), inbound.listener, ...inbound.ownListeners].sort(byName);
      routes = [...sidecarRouteConfigs(scope, clusters), ...inbound.routes].sort(byName);
    } else {
      ({ listeners, routes } = gatewayListeners(scope, clusters));
      listeners.sort(byName);
      routes.sort(byName);
    }
  }
  const clusterList = clusters.clusters();
  const body: Omit<ProxyConfig, 'version'> = {
    node: proxy,
    listeners,
    routes,
    clusters: clusterList,
    endpoints: clusters.endpoints(),
    secrets: referencedSecrets(listeners, clusterList),
    mesh: {
      trustDomain: snapshot.mesh.trustDomain,
      pathNormalization: snapshot.mesh.pathNormalization,
      outboundTrafficPolicy: scope.outboundTrafficPolicy,
      ...accessLogConfig(snapshot, proxy),
      ...tracingConfig(snapshot, proxy),
      ...metricsConfig(snapshot, proxy),
    },
  };
  return { version: options.version === false ? '' : contentVersion(body), ...body };
}

/**
 * The secrets the config names, without material: certificates are issued by the CA and delivered
 * with the config by distribution (as SDS does in Istio), so the compiler stays pure.
 */
function referencedSecrets(listeners: readonly Listener[], clusters: ProxyConfig['clusters']): Secret[] {
  const names = new Set<string>();
  for (const l of listeners) {
    for (const c of [...l.filterChains, ...(l.defaultChain ? [l.defaultChain] : [])]) {
      if (c.tls?.certificate) names.add(c.tls.certificate);
      if (c.tls?.validationContext) names.add(c.tls.validationContext);
    }
  }
  for (const c of clusters) {
    if (c.tls?.certificate) names.add(c.tls.certificate);
    if (c.tls?.validationContext) names.add(c.tls.validationContext);
  }
  return [...names].sort().map((name) => ({ name }));
}

/** A hash of the canonical JSON (object keys sorted), so equal content means an equal version. */
export function contentVersion(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

// Hashing dominates a compile (a 300 KiB config), so this builds one string without intermediate
// arrays; keys sort by UTF-16 code units, as `<` compares them, so versions are unchanged.
function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

const nameOf = (item: { name: string }): string => item.name;

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
