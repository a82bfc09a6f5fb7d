/**
 * Outbound clusters: for every service port the proxy can reach, `outbound|port||host`, and one
 * `outbound|port|subset|host` per subset of the DestinationRule that applies (Istio's
 * buildOutboundClusters). Each gets the merged traffic policy (traffic-policy.ts), its TLS
 * (tls.ts) and its endpoints (the subset's labels filter the service's).
 */
import type { Cluster, ClusterLoadAssignment, ConfigSource } from '../../proxy-config/index.js';
import { upstreamProtocol, labelsMatch, type Service, type ServicePort } from '../../registry/index.js';
import type { Subset } from '../../resources/istio/destination-rule.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from './cluster-set.js';
import { circuitBreakers, DEFAULT_IDLE_TIMEOUT_MS, h2Upgrade, hashPolicy, loadBalancer, localityLbSetting, mergeTrafficPolicy, outlierDetection, tcpKeepalive } from './traffic-policy.js';
import { autoMtlsEndpoints, serviceMtlsMode, upstreamTls } from './tls.js';
import { istioSni, outboundClusterName, spiffeId } from './names.js';
import { loadAssignment } from '../endpoints/endpoints.js';
import type { Snapshot } from '../snapshot.js';
import type { MergedDestinationRule } from '../snapshot/destination-rules.js';
import { localityAssignment, readsProxyLabels, sharedCluster, type BuiltCluster } from './shared.js';
import type { LocalityContext } from '../endpoints/locality.js';

export function addOutboundClusters(scope: ProxyScope, set: ClusterSet): void {
  for (const service of scope.services) {
    const dr = scope.destinationRule(service);
    for (const port of service.ports) {
      if (port.protocol === 'UDP' || !scope.admitsPort(service, port.port)) continue;
      const source = dr?.source ?? { kind: service.source.kind, namespace: service.source.namespace, name: service.source.name };
      addCluster(scope, set, service, port, undefined, source);
      for (const subset of dr?.spec.subsets ?? []) addCluster(scope, set, service, port, subset, source);
    }
  }
}

function addCluster(scope: ProxyScope, set: ClusterSet, service: Service, port: ServicePort, subset: Subset | undefined, source: ConfigSource): void {
  const dr = scope.destinationRule(service);
  // Built from the snapshot and the rule the lookup found only, so shared by every proxy finding
  // that rule (shared.ts); locality load balancing is relative to the proxy, so not shared.
  const built = sharedCluster(scope.snapshot, service, port.port, subset?.name, dr, () => buildCluster(scope.snapshot, dr, service, port, subset, source));
  const locality = built.assign && localityContext(scope, built.policy);
  if (locality) {
    set.reads.locality = true;
    set.reads.labels ||= readsProxyLabels(locality);
  }
  set.add(built.cluster, locality ? localityAssignment(built, locality) : built.assignment, built.hash);
}

function buildCluster(snapshot: Snapshot, dr: MergedDestinationRule | undefined, service: Service, port: ServicePort, subset: Subset | undefined, source: ConfigSource): BuiltCluster {
  const { mesh, registry } = snapshot;
  const policy = mergeTrafficPolicy(dr?.spec.trafficPolicy, subset?.trafficPolicy, port.port);
  const name = outboundClusterName(port.port, subset?.name, service.hostname);
  const passthrough = service.resolution === 'PASSTHROUGH';
  const protocol = h2Upgrade(upstreamProtocol(port.protocol), policy?.connectionPool, mesh);

  const all = registry.endpoints(service, port.port);
  const endpoints = subset ? all.filter((e) => labelsMatch(subset.labels, e.labels)) : all;
  const accounts = [...new Set(endpoints.flatMap((e) => (e.workload ? [spiffeId(mesh.trustDomain, e.workload.namespace, e.workload.serviceAccount)] : [])))].sort();
  const serviceMtls = serviceMtlsMode(snapshot, service, all, passthrough || policy?.loadBalancer?.simple === 'PASSTHROUGH');
  const tls = upstreamTls(policy?.tls, { sni: istioSni(port.port, subset?.name, service.hostname), serviceAccounts: accounts, http2: protocol === 'http2', hostname: service.hostname, serviceMtls, passthrough }, mesh.enableAutoMtls);

  const pool = policy?.connectionPool;
  const cluster: Cluster = {
    name,
    discovery: passthrough ? 'original-dst' : service.resolution === 'EDS' ? 'eds' : 'strict-dns',
    protocol,
    service: { host: service.hostname, name: service.name, namespace: service.namespace, port: port.port, ...(subset ? { subset: subset.name } : {}) },
    loadBalancer: loadBalancer(policy, passthrough),
    connectTimeoutMs: pool?.tcp?.connectTimeout ?? mesh.connectTimeoutMs,
    idleTimeoutMs: pool?.http?.idleTimeout ?? pool?.tcp?.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS,
    circuitBreakers: circuitBreakers(pool),
    ...tcpKeepalive(pool, mesh),
    ...outlier(policy?.outlierDetection),
    ...(tls.tls ? { tls: tls.tls } : {}),
    source,
  };
  if (passthrough) return { cluster, assignment: undefined, hash: hashPolicy(policy), policy };
  const upstream = tls.endpoints === 'auto' ? autoMtlsEndpoints(snapshot, endpoints) : endpoints;
  return {
    cluster, assignment: loadAssignment(name, upstream, tls.endpoints), hash: hashPolicy(policy), policy,
    assign: (locality: LocalityContext): ClusterLoadAssignment => loadAssignment(name, upstream, tls.endpoints, locality),
  };
}

/** Locality load balancing relative to this proxy, when a setting applies (traffic-policy.ts). */
function localityContext(scope: ProxyScope, policy: ReturnType<typeof mergeTrafficPolicy>): LocalityContext | undefined {
  const setting = localityLbSetting(policy, scope.snapshot.mesh.localityLbSetting);
  if (!setting) return undefined;
  // Failover needs outlier detection, or Envoy would never move off an unhealthy locality.
  return { proxyLocality: scope.node.locality ?? scope.instance?.locality ?? '', proxyLabels: scope.node.labels, setting, enableFailover: policy?.outlierDetection !== undefined };
}

function outlier(od: Parameters<typeof outlierDetection>[0]): { outlierDetection?: ReturnType<typeof outlierDetection> } {
  const converted = outlierDetection(od);
  return converted ? { outlierDetection: converted } : {};
}
