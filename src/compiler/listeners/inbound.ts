/**
 * A sidecar's inbound side (Istio's listener_inbound.go): `virtualInbound` on 15006 with filter
 * chains per workload port the workload's services target, each terminating Istio mTLS and/or
 * accepting plaintext by the PeerAuthentication mode, then routing (HTTP: the `inbound|<port>||`
 * table) or proxying (TCP) to the `inbound|<port>||` cluster, which points at the app on the pod's
 * address. Ports no service declares fall through to InboundPassthroughClusterIpv4 through the
 * passthrough chains, which carry the mTLS mode too (Istio's buildInboundPassthroughChains and
 * authn Builder.ForPassthrough): the workload's mode for any port, plus a chain per portLevelMtls
 * port no service declares. STRICT passthrough accepts only Istio mTLS, PERMISSIVE both, DISABLE
 * plaintext; the proxy narrows by destination port first, as Envoy does, so a port's own chains
 * always win over the catch-all ones.
 */
import type { Cluster, ClusterLoadAssignment, FilterChain, Listener, RouteConfiguration } from '../../proxy-config/index.js';
import { isHttp, upstreamProtocol, type ServiceTarget } from '../../registry/index.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import { circuitBreakers, DEFAULT_IDLE_TIMEOUT_MS } from '../clusters/traffic-policy.js';
import { inboundClusterName, INBOUND_PASSTHROUGH_CLUSTER } from '../clusters/names.js';
import { peerAuthnPolicy, type MtlsMode } from '../security/peer-authn.js';
import { httpChain, tcpAuthz, type PolicyTarget } from './http-chain.js';

export const VIRTUAL_INBOUND_PORT = 15006;
const ISTIO_ALPN = ['istio-peer-exchange', 'istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

export interface InboundConfig {
  listener: Listener;
  routes: RouteConfiguration[];
}

export function sidecarInbound(scope: ProxyScope, clusters: ClusterSet): InboundConfig {
  const { snapshot, node, instance } = scope;
  const targets = instance ? uniqueTargets(snapshot.registry.serviceTargets(instance)) : [];
  const policy = peerAuthnPolicy(snapshot.peerAuthentications, snapshot.mesh, node.namespace, node.labels);
  const target: PolicyTarget = { snapshot, namespace: node.namespace, labels: node.labels };
  const chains: FilterChain[] = [];
  const routes: RouteConfiguration[] = [];
  for (const t of targets) {
    const protocol = t.service.ports.find((p) => p.port === t.port)?.protocol ?? 'TCP';
    const http = isHttp(protocol) || protocol === 'Unsupported';
    const cluster = inboundClusterName(t.targetPort);
    const name = `0.0.0.0_${t.targetPort}`;
    const base: FilterChain = http
      ? httpChain(name, cluster, `inbound_0.0.0.0_${t.targetPort}`, target)
      : { name, match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster, weight: 100 }], statPrefix: cluster, ...tcpAuthz(target) } };
    chains.push(...withMtls(base, t.targetPort, policy.ports.get(t.targetPort) ?? policy.mode, http));
    if (http) {
      routes.push({
        name: cluster,
        virtualHosts: [{
          name: `inbound|http|${t.targetPort}`,
          domains: ['*'],
          routes: [{ name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'forward', clusters: [{ cluster, weight: 100 }] } }],
        }],
      });
    }
    addInboundCluster(scope, clusters, t, upstreamProtocol(protocol));
  }
  const passthrough: FilterChain = { name: 'virtualInbound', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: INBOUND_PASSTHROUGH_CLUSTER, weight: 100 }], statPrefix: INBOUND_PASSTHROUGH_CLUSTER, ...tcpAuthz(target) } };
  const servicePorts = new Set(targets.map((t) => t.targetPort));
  for (const [port, mode] of [...policy.ports].sort(([a], [b]) => a - b)) {
    if (!servicePorts.has(port)) chains.push(...withMtls(passthrough, port, mode, false));
  }
  // The catch-all: its plaintext chain stays the listener's default chain, used when no chain fits.
  const catchAll = withMtls(passthrough, undefined, policy.mode, false);
  const plain = catchAll.find((c) => !c.tls);
  chains.push(...catchAll.filter((c) => c.tls));
  return {
    listener: {
      name: 'virtualInbound',
      direction: 'inbound',
      address: '0.0.0.0',
      port: VIRTUAL_INBOUND_PORT,
      filterChains: chains,
      ...(plain ? { defaultChain: plain } : {}),
    },
    routes,
  };
}

/**
 * STRICT: mTLS only; PERMISSIVE: Istio mTLS (by ALPN) first, anything else as plaintext; DISABLE:
 * plaintext. Without a port the chains match any port (the passthrough catch-all).
 */
function withMtls(base: FilterChain, port: number | undefined, mode: MtlsMode, http: boolean): FilterChain[] {
  const onPort = port === undefined ? {} : { destinationPort: port };
  const tls: FilterChain = {
    ...base,
    match: { ...onPort, transportProtocol: 'tls', ...(mode === 'PERMISSIVE' ? { applicationProtocols: ISTIO_ALPN } : {}) },
    tls: { mode: 'ISTIO_MUTUAL', certificate: 'default', validationContext: 'ROOTCA', alpn: http ? ['h2', 'http/1.1'] : ['istio-peer-exchange', 'istio'] },
  };
  const plain: FilterChain = { ...base, match: { ...onPort } };
  if (mode === 'STRICT') return [tls];
  if (mode === 'DISABLE') return [plain];
  return [tls, plain];
}

/** One chain per workload port: the first service targeting it decides the protocol. */
function uniqueTargets(targets: readonly ServiceTarget[]): ServiceTarget[] {
  const seen = new Map<number, ServiceTarget>();
  for (const t of targets) if (!seen.has(t.targetPort)) seen.set(t.targetPort, t);
  return [...seen.values()].sort((a, b) => a.targetPort - b.targetPort);
}

function addInboundCluster(scope: ProxyScope, clusters: ClusterSet, t: ServiceTarget, protocol: Cluster['protocol']): void {
  const name = inboundClusterName(t.targetPort);
  const cluster: Cluster = {
    name,
    discovery: 'static',
    protocol,
    service: { host: t.service.hostname, name: t.service.name, namespace: t.service.namespace, port: t.port },
    loadBalancer: { policy: 'ROUND_ROBIN' },
    connectTimeoutMs: scope.snapshot.mesh.connectTimeoutMs,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    circuitBreakers: circuitBreakers(undefined),
  };
  const inst = scope.instance;
  const assignment: ClusterLoadAssignment = {
    cluster: name,
    // The app listens on the pod's own address (each local pod has its own IP, as in Kubernetes).
    endpoints: inst ? [{ address: inst.ip, port: t.targetPort, weight: 1, labels: { ...inst.labels }, workload: { name: inst.workload, namespace: inst.namespace, serviceAccount: inst.serviceAccount }, tlsMode: 'disabled', healthy: true }] : [],
  };
  clusters.add(cluster, assignment);
}
