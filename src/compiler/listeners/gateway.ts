/**
 * A gateway's listeners (Istio's gateway.go buildGatewayListeners): the servers of every Gateway
 * selecting the pod, merged by port into `0.0.0.0_<port>`. Plain HTTP servers share one chain and
 * the `http.<port>` table; each TLS-terminating HTTPS server gets its own chain on its SNI hosts
 * with its certificate (credentialName -> secret name) and the `https.<port>.<portName>.<gateway>.<ns>`
 * table; PASSTHROUGH servers get one SNI chain per VirtualService `tls` route; TCP (and terminated
 * TLS) servers proxy to the first applicable `tcp` route.
 */
import type { DownstreamTls, FilterChain, Listener, RouteConfiguration } from '../../proxy-config/index.js';
import { hostCovers } from '../../resources/index.js';
import { gatewayProtocol, isHttpProtocol, isPassthrough, type ServerTLSSettings } from '../../resources/istio/gateway.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import { sourceOf } from '../snapshot/order.js';
import type { RouteContext } from '../routes/http-route.js';
import { gatewayName, gatewayVirtualHosts, serverHosts, type BoundServer } from '../routes/gateway-routes.js';
import { tcpRouteClusters, tlsRouteChains } from '../routes/tcp-routes.js';
import { BLACKHOLE_CLUSTER } from '../clusters/names.js';
import { httpChain, tcpAuthz, type PolicyTarget } from './http-chain.js';

export interface GatewayConfig {
  listeners: Listener[];
  routes: RouteConfiguration[];
}

export function gatewayListeners(scope: ProxyScope, clusters: ClusterSet): GatewayConfig {
  const gateways = scope.snapshot.gateways.forProxy(scope.node.labels);
  const names = new Set(gateways.map(gatewayName));
  const byPort = new Map<number, BoundServer[]>();
  for (const gateway of gateways) {
    (gateway.spec.servers ?? []).forEach((server, index) => {
      const list = byPort.get(server.port.number) ?? [];
      list.push({ gateway, server, index });
      byPort.set(server.port.number, list);
    });
  }
  const target: PolicyTarget = { snapshot: scope.snapshot, namespace: scope.node.namespace, labels: scope.node.labels };
  const listeners: Listener[] = [];
  const routes: RouteConfiguration[] = [];
  for (const [port, servers] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
    const name = `0.0.0.0_${port}`;
    const chains: FilterChain[] = [];
    const plain = servers.filter((b) => isHttpProtocol(gatewayProtocol(b.server.port.protocol)));
    if (plain.length > 0) {
      const table = `http.${port}`;
      routes.push({ name: table, virtualHosts: gatewayVirtualHosts(scope, clusters, plain, port, names) });
      const chain = httpChain(name, table, `outbound_0.0.0.0_${port}`, target);
      if (plain.every((b) => b.server.tls?.httpsRedirect) && chain.http) chain.http.httpsRedirect = true;
      chains.push({ ...chain, source: sourceOf(plain[0]?.gateway ?? servers[0]!.gateway, `spec.servers[${plain[0]?.index ?? 0}]`) });
    }
    const ctx: RouteContext = { scope, clusters, audience: { gateways: names, labels: scope.node.labels, namespace: scope.node.namespace, port } };
    for (const bound of servers) {
      const protocol = gatewayProtocol(bound.server.port.protocol);
      if (isHttpProtocol(protocol)) continue;
      const tls = bound.server.tls;
      const source = sourceOf(bound.gateway, `spec.servers[${bound.index}]`);
      const sni = serverHosts(bound).map((h) => h.host).filter((h) => h !== '*');
      const vss = scope.snapshot.virtualServices.forGateway(gatewayName(bound.gateway), bound.gateway.metadata.namespace);
      if (tls && isPassthrough(tls)) {
        const within = (s: string) => serverHosts(bound).some((h) => hostCovers(h.host, s) || hostCovers(s, h.host));
        chains.push(...tlsRouteChains(vss, ctx, `outbound_0.0.0.0_${port}`, within).map((c) => ({ ...c, match: { ...c.match, transportProtocol: 'tls' as const }, ...(c.tcp ? { tcp: { ...c.tcp, ...tcpAuthz(target) } } : {}) })));
        continue;
      }
      const downstream = tls ? downstreamTls(tls) : undefined;
      const match = { ...(sni.length > 0 && downstream ? { serverNames: sni } : {}), ...(downstream ? { transportProtocol: 'tls' as const } : {}) };
      if (protocol === 'HTTPS') {
        const table = `https.${port}.${bound.server.port.name}.${bound.gateway.metadata.name}.${bound.gateway.metadata.namespace}`;
        routes.push({ name: table, virtualHosts: gatewayVirtualHosts(scope, clusters, [bound], port, names) });
        chains.push({ ...httpChain(`${name}.${bound.server.port.name}.${bound.gateway.metadata.name}.${bound.gateway.metadata.namespace}`, table, `outbound_0.0.0.0_${port}`, target), match, ...(downstream ? { tls: downstream } : {}), source });
        continue;
      }
      const routed = tcpRouteClusters(vss, ctx);
      chains.push({ name, match, ...(downstream ? { tls: downstream } : {}), protocol: 'tcp', tcp: { clusters: routed?.clusters ?? [{ cluster: BLACKHOLE_CLUSTER, weight: 100 }], statPrefix: `outbound_0.0.0.0_${port}`, ...tcpAuthz(target) }, source });
    }
    listeners.push({ name, direction: 'gateway', address: servers[0]?.server.bind ?? '0.0.0.0', port, filterChains: chains });
  }
  return { listeners, routes };
}

/** Server TLS -> the certificates the proxy terminates with, by secret name (credentialName as Istio's SDS names it). */
function downstreamTls(tls: ServerTLSSettings): DownstreamTls | undefined {
  const mode = tls.mode ?? 'PASSTHROUGH';
  if (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') return undefined;
  if (mode === 'ISTIO_MUTUAL') return { mode, certificate: 'default', validationContext: 'ROOTCA', alpn: ['h2', 'http/1.1'] };
  const credential = tls.credentialName ?? tls.credentialNames?.[0];
  const certificate = credential ?? (tls.serverCertificate ? `file-cert:${tls.serverCertificate}~${tls.privateKey ?? ''}` : '');
  const ca = mode === 'SIMPLE' ? undefined
    : tls.caCertCredentialName ?? (credential ? `${credential}-cacert` : tls.caCertificates ? `file-root:${tls.caCertificates}` : undefined);
  return terminatingTls(mode, certificate, ca, tls);
}

/** What server TLS adds once mode and certificates are chosen; a Sidecar ingress port sets it the same way as a gateway. */
export function terminatingTls(
  mode: DownstreamTls['mode'],
  certificate: string,
  ca: string | undefined,
  tls: { subjectAltNames?: readonly string[]; minProtocolVersion?: string; maxProtocolVersion?: string },
): DownstreamTls {
  return {
    mode,
    certificate,
    ...(ca ? { validationContext: ca } : {}),
    ...(tls.subjectAltNames?.length ? { subjectAltNames: [...tls.subjectAltNames] } : {}),
    alpn: ['h2', 'http/1.1'],
    ...(tls.minProtocolVersion ? { minProtocolVersion: tls.minProtocolVersion } : {}),
    ...(tls.maxProtocolVersion ? { maxProtocolVersion: tls.maxProtocolVersion } : {}),
  };
}
