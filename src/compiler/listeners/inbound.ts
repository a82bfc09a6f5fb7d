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
 * always win over the catch-all ones. A Sidecar with `ingress` replaces the Service-derived ports
 * with its own (inbound-ingress.ts); the Sidecar's inboundConnectionPool applies to every inbound cluster.
 */
import type { Cluster, FilterChain, Listener, RouteConfiguration } from '../../proxy-config/index.js';
import { isHttp, upstreamProtocol, type ServiceTarget } from '../../registry/index.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import { circuitBreakers, DEFAULT_IDLE_TIMEOUT_MS, tcpKeepalive } from '../clusters/traffic-policy.js';
import { inboundClusterName, INBOUND_PASSTHROUGH_CLUSTER } from '../clusters/names.js';
import { peerAuthnPolicy, type MtlsMode } from '../security/peer-authn.js';
import { httpChain, tcpAuthz, type PolicyTarget } from './http-chain.js';
import { ingressAssignment, sidecarIngressPorts, type InboundPort } from './inbound-ingress.js';

export const VIRTUAL_INBOUND_PORT = 15006;
const ISTIO_ALPN = ['istio-peer-exchange', 'istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

export interface InboundConfig {
  listener: Listener;
  /** Listeners on their own ports (Sidecar ingress with captureMode NONE). */
  ownListeners: Listener[];
  routes: RouteConfiguration[];
}

export function sidecarInbound(scope: ProxyScope, clusters: ClusterSet): InboundConfig {
  const { snapshot, node, instance } = scope;
  const policy = peerAuthnPolicy(snapshot.peerAuthentications, snapshot.mesh, node.namespace, node.labels);
  const modeFor = (port: number): MtlsMode => policy.ports.get(port) ?? policy.mode;
  const target: PolicyTarget = { snapshot, namespace: node.namespace, labels: node.labels };
  const ingress = sidecarIngressPorts(scope, modeFor);
  const ports: InboundPort[] = ingress ?? (instance ? uniqueTargets(snapshot.registry.serviceTargets(instance)).map((t) => servicePort(scope, t)) : []);
  const chains: FilterChain[] = [];
  const ownListeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  for (const p of ports) {
    const http = isHttp(p.protocol) || p.protocol === 'Unsupported';
    const cluster = inboundClusterName(p.port);
    const base: FilterChain = http
      ? httpChain(p.name, cluster, `inbound_${p.name}`, target)
      : { name: p.name, match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster, weight: 100 }], statPrefix: cluster, ...tcpAuthz(target) } };
    const sourced: FilterChain = p.source ? { ...base, source: p.source } : base;
    const portChains = p.tls
      ? [{ ...sourced, match: { destinationPort: p.port, transportProtocol: 'tls' as const }, tls: p.tls }]
      : withMtls(sourced, p.port, modeFor(p.port), http);
    if (p.bindToPort) ownListeners.push({ name: p.name, direction: 'inbound', address: p.bind, port: p.port, filterChains: portChains });
    else chains.push(...portChains);
    if (http) {
      routes.push({
        name: cluster,
        virtualHosts: [{
          name: `inbound|http|${p.port}`,
          domains: ['*'],
          routes: [{ name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'forward', clusters: [{ cluster, weight: 100 }] } }],
        }],
      });
    }
    addInboundCluster(scope, clusters, p);
  }
  const passthrough: FilterChain = { name: 'virtualInbound', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: INBOUND_PASSTHROUGH_CLUSTER, weight: 100 }], statPrefix: INBOUND_PASSTHROUGH_CLUSTER, ...tcpAuthz(target) } };
  const declared = new Set(ports.filter((p) => !p.bindToPort).map((p) => p.port));
  for (const [port, mode] of [...policy.ports].sort(([a], [b]) => a - b)) {
    if (!declared.has(port)) chains.push(...withMtls(passthrough, port, mode, false));
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
    ownListeners,
    routes,
  };
}

/** A workload port some Service targets: the first such service decides the protocol. */
function servicePort(scope: ProxyScope, t: ServiceTarget): InboundPort {
  const pool = scope.sidecar?.spec.inboundConnectionPool;
  return {
    port: t.targetPort,
    protocol: t.service.ports.find((p) => p.port === t.port)?.protocol ?? 'TCP',
    name: `0.0.0.0_${t.targetPort}`,
    bindToPort: false,
    bind: '0.0.0.0',
    // The app listens on the pod's own address (each local pod has its own IP, as in Kubernetes).
    endpoint: { address: scope.instance?.ip ?? scope.node.ip, port: t.targetPort },
    connectionPool: pool,
    service: { host: t.service.hostname, name: t.service.name, namespace: t.service.namespace, port: t.port },
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

function addInboundCluster(scope: ProxyScope, clusters: ClusterSet, p: InboundPort): void {
  const name = inboundClusterName(p.port);
  const pool = p.connectionPool;
  const cluster: Cluster = {
    name,
    discovery: 'static',
    protocol: upstreamProtocol(p.protocol),
    service: p.service,
    loadBalancer: { policy: 'ROUND_ROBIN' },
    connectTimeoutMs: pool?.tcp?.connectTimeout ?? scope.snapshot.mesh.connectTimeoutMs,
    idleTimeoutMs: pool?.http?.idleTimeout ?? pool?.tcp?.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS,
    circuitBreakers: circuitBreakers(pool),
    ...tcpKeepalive(pool, scope.snapshot.mesh),
  };
  clusters.add(cluster, ingressAssignment(scope, name, p));
}
