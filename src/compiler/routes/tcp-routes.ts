/**
 * VirtualService `tcp` and `tls` routes -> TCP proxy destinations and SNI filter chains (Istio's
 * networkfilter.go / buildSidecarOutboundTLSFilterChainOpts). The first TCP route whose match
 * applies (port, source labels and namespace, gateways) takes the connection; TLS routes become
 * one filter chain per match, keyed on its SNI hosts.
 */
import type { FilterChain, WeightedCluster } from '../../proxy-config/index.js';
import type { L4MatchAttributes, RouteDestination, TLSMatchAttributes } from '../../resources/istio/virtual-service.js';
import { labelsMatch } from '../../registry/index.js';
import type { VirtualServiceEntry } from '../snapshot/virtual-services.js';
import { qualifyGateway } from '../snapshot/virtual-services.js';
import { sourceOf } from '../snapshot/order.js';
import type { RouteContext } from './http-route.js';
import { resolveDestination } from './destination.js';

function l4Applies(m: L4MatchAttributes | TLSMatchAttributes, vs: VirtualServiceEntry, ctx: RouteContext): boolean {
  const ns = vs.resource.metadata.namespace;
  if (m.port && m.port !== ctx.audience.port) return false;
  if (m.gateways?.length) return m.gateways.some((g) => ctx.audience.gateways.has(qualifyGateway(g, ns)));
  if (![...vs.topGateways].some((g) => ctx.audience.gateways.has(g))) return false;
  if (!labelsMatch(m.sourceLabels, ctx.audience.labels)) return false;
  return !m.sourceNamespace || m.sourceNamespace === ctx.audience.namespace;
}

export function weightedClusters(route: readonly RouteDestination[], namespace: string, ctx: RouteContext): WeightedCluster[] {
  const kept = route.length === 1 ? route : route.filter((d) => (d.weight ?? 0) > 0);
  return kept.map((d) => ({
    cluster: resolveDestination(d.destination, namespace, ctx.audience.port, ctx.scope).cluster,
    weight: route.length === 1 ? 100 : d.weight ?? 0,
  }));
}

/** The destinations of the first applicable TCP route among the VirtualServices, if any. */
export function tcpRouteClusters(vss: readonly VirtualServiceEntry[], ctx: RouteContext): { clusters: WeightedCluster[]; vs: VirtualServiceEntry; index: number } | undefined {
  for (const vs of vss) {
    const routes = vs.resource.spec.tcp ?? [];
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i];
      if (!r?.route?.length) continue;
      const matches = r.match ?? [];
      if (matches.length > 0 && !matches.some((m) => l4Applies(m, vs, ctx))) continue;
      if (matches.length === 0 && ![...vs.topGateways].some((g) => ctx.audience.gateways.has(g))) continue;
      return { clusters: weightedClusters(r.route, vs.resource.metadata.namespace, ctx), vs, index: i };
    }
  }
  return undefined;
}

/** One TCP filter chain per applicable TLS route match, on its SNI hosts (restricted to `within` when given). */
export function tlsRouteChains(vss: readonly VirtualServiceEntry[], ctx: RouteContext, statPrefix: string, within?: (sni: string) => boolean): FilterChain[] {
  const chains: FilterChain[] = [];
  for (const vs of vss) {
    (vs.resource.spec.tls ?? []).forEach((r, i) => {
      if (!r.route?.length) return;
      for (const m of r.match) {
        if (!l4Applies(m, vs, ctx)) continue;
        const sni = within ? m.sniHosts.filter(within) : m.sniHosts;
        if (sni.length === 0) continue;
        chains.push({
          name: `${vs.resource.metadata.name}.${vs.resource.metadata.namespace}.tls.${i}`,
          match: { serverNames: [...sni] },
          protocol: 'tcp',
          tcp: { clusters: weightedClusters(r.route, vs.resource.metadata.namespace, ctx), statPrefix },
          source: sourceOf(vs.resource, `spec.tls[${i}]`),
        });
      }
    });
  }
  return chains;
}
