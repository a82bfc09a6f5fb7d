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
import { circuitBreakers, DEFAULT_IDLE_TIMEOUT_MS, hashPolicy, loadBalancer, mergeTrafficPolicy, outlierDetection } from './traffic-policy.js';
import { autoMtlsEndpoints, serviceMtlsMode, upstreamTls } from './tls.js';
import { istioSni, outboundClusterName, spiffeId } from './names.js';
import { loadAssignment } from '../endpoints/endpoints.js';

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
  const { mesh, registry } = scope.snapshot;
  const dr = scope.destinationRule(service);
  const policy = mergeTrafficPolicy(dr?.spec.trafficPolicy, subset?.trafficPolicy, port.port);
  const name = outboundClusterName(port.port, subset?.name, service.hostname);
  const passthrough = service.resolution === 'PASSTHROUGH';
  let protocol = upstreamProtocol(port.protocol);
  if (protocol === 'http1' && policy?.connectionPool?.http?.h2UpgradePolicy === 'UPGRADE') protocol = 'http2';

  const all = registry.endpoints(service, port.port);
  const endpoints = subset ? all.filter((e) => labelsMatch(subset.labels, e.labels)) : all;
  const accounts = [...new Set(endpoints.flatMap((e) => (e.workload ? [spiffeId(mesh.trustDomain, e.workload.namespace, e.workload.serviceAccount)] : [])))].sort();
  const serviceMtls = serviceMtlsMode(scope.snapshot, service, all, passthrough || policy?.loadBalancer?.simple === 'PASSTHROUGH');
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
    ...outlier(policy?.outlierDetection),
    ...(tls.tls ? { tls: tls.tls } : {}),
    source,
  };
  const assignment: ClusterLoadAssignment | undefined = passthrough ? undefined
    : loadAssignment(name, tls.endpoints === 'auto' ? autoMtlsEndpoints(scope.snapshot, endpoints) : endpoints, tls.endpoints);
  set.add(cluster, assignment, hashPolicy(policy));
}

function outlier(od: Parameters<typeof outlierDetection>[0]): { outlierDetection?: ReturnType<typeof outlierDetection> } {
  const converted = outlierDetection(od);
  return converted ? { outlierDetection: converted } : {};
}
