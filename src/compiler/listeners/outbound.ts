/**
 * A sidecar's outbound listeners (Istio's buildSidecarOutboundListeners): `virtualOutbound` on
 * 15001 catches everything and falls through to PassthroughCluster (ALLOW_ANY) or
 * BlackHoleCluster (REGISTRY_ONLY); `0.0.0.0_<port>` per HTTP port routes on Host with the
 * `<port>` table; `<vip>_<port>` per TCP service port proxies to its cluster (or its VirtualService
 * tcp/tls routes); a sniffed port gets an HTTP chain for HTTP traffic and a TCP chain for the rest.
 * Without a destination-address match in filter chains, a sniffed port binds to the service VIP
 * rather than Istio's wildcard (same result for traffic addressed to the VIP).
 */
import type { FilterChain, Listener } from '../../proxy-config/index.js';
import { isHttp, isTls, type Service, type ServicePort } from '../../registry/index.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import { BLACKHOLE_CLUSTER, outboundClusterName, PASSTHROUGH_CLUSTER } from '../clusters/names.js';
import { MESH_GATEWAY } from '../snapshot/virtual-services.js';
import type { RouteContext } from '../routes/http-route.js';
import { httpPorts, virtualServicesFor } from '../routes/sidecar-routes.js';
import { tcpRouteClusters, tlsRouteChains } from '../routes/tcp-routes.js';
import { httpChain } from './http-chain.js';

export const VIRTUAL_OUTBOUND_PORT = 15001;
const SNIFFED_ALPN = ['http/1.0', 'http/1.1', 'h2c'];

export function sidecarOutboundListeners(scope: ProxyScope, clusters: ClusterSet): Listener[] {
  const listeners = new Map<string, Listener>();
  for (const port of httpPorts(scope)) {
    const hasHttp = scope.services.some((s) => s.ports.some((p) => p.port === port && isHttp(p.protocol)) && scope.admitsPort(s, port));
    if (!hasHttp) continue;
    const name = `0.0.0.0_${port}`;
    listeners.set(name, { name, direction: 'outbound', address: '0.0.0.0', port, filterChains: [httpChain(name, String(port), `outbound_0.0.0.0_${port}`, undefined)] });
  }
  for (const service of scope.services) {
    for (const port of service.ports) {
      if (isHttp(port.protocol) || port.protocol === 'UDP' || !scope.admitsPort(service, port.port)) continue;
      const address = service.vip ?? '0.0.0.0';
      const name = `${address}_${port.port}`;
      // Istio keeps the first service on a conflicting address and port.
      if (listeners.has(name)) continue;
      listeners.set(name, { name, direction: 'outbound', address, port: port.port, filterChains: tcpChains(scope, clusters, service, port, name) });
    }
  }
  const fallback = scope.outboundTrafficPolicy === 'REGISTRY_ONLY' ? BLACKHOLE_CLUSTER : PASSTHROUGH_CLUSTER;
  const virtualOutbound: Listener = {
    name: 'virtualOutbound',
    direction: 'outbound',
    address: '0.0.0.0',
    port: VIRTUAL_OUTBOUND_PORT,
    filterChains: [],
    defaultChain: { name: 'virtualOutbound-catchall-tcp', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: fallback, weight: 100 }], statPrefix: fallback } },
  };
  return [...listeners.values(), virtualOutbound].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function tcpChains(scope: ProxyScope, clusters: ClusterSet, service: Service, port: ServicePort, listenerName: string): FilterChain[] {
  const ctx: RouteContext = { scope, clusters, audience: { gateways: new Set([MESH_GATEWAY]), labels: scope.node.labels, namespace: scope.node.namespace, port: port.port } };
  const vss = virtualServicesFor(service, scope.meshVirtualServices);
  const chains: FilterChain[] = [];
  if (port.protocol === 'Unsupported') {
    chains.push({ ...httpChain(listenerName, String(port.port), `outbound_${listenerName}`, undefined), match: { transportProtocol: 'raw_buffer', applicationProtocols: SNIFFED_ALPN } });
  }
  if (isTls(port.protocol)) chains.push(...tlsRouteChains(vss, ctx, `outbound|${port.port}||${service.hostname}`));
  const routed = tcpRouteClusters(vss, ctx);
  const cluster = outboundClusterName(port.port, undefined, service.hostname);
  chains.push({
    name: listenerName,
    match: {},
    protocol: 'tcp',
    tcp: { clusters: routed?.clusters ?? [{ cluster, weight: 100 }], statPrefix: cluster },
    ...(routed ? { source: { kind: 'VirtualService', namespace: routed.vs.resource.metadata.namespace, name: routed.vs.resource.metadata.name, path: `spec.tcp[${routed.index}]` } } : {}),
  });
  return chains;
}
