/**
 * A gateway's virtual hosts for a set of servers (Istio's buildGatewayHTTPRouteConfig): every
 * VirtualService bound to the server's gateway and exported to its namespace, whose namespace fits
 * the server host's `ns/` part, contributes a virtual host per intersecting host (named by the
 * more specific of the two, `host:port`). Several VirtualServices for one host have their routes
 * appended, then catch-all routes move to the end (SortVHostRoutes). httpsRedirect servers answer
 * 301 to https for every host they serve. No virtual host at all gives `blackhole:<port>` (404).
 */
import type { Route, VirtualHost } from '../../proxy-config/index.js';
import { hostCovers, hostsIntersect } from '../../resources/index.js';
import type { Server } from '../../resources/istio/gateway.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import type { Gateway } from '../snapshot/gateways-sidecars.js';
import type { VirtualServiceEntry } from '../snapshot/virtual-services.js';
import { translateHttpRoutes, type RouteContext } from './http-route.js';
import { isCatchAll } from './match.js';

export interface BoundServer {
  gateway: Gateway;
  server: Server;
  index: number;
}

/** `[ns/]host` with `.` meaning the Gateway's namespace and no namespace meaning any. */
export function serverHosts(bound: BoundServer): { namespace: string; host: string }[] {
  return bound.server.hosts.map((h) => {
    const slash = h.indexOf('/');
    if (slash < 0) return { namespace: '*', host: h.toLowerCase() };
    const ns = h.slice(0, slash);
    return { namespace: ns === '.' ? bound.gateway.metadata.namespace : ns, host: h.slice(slash + 1).toLowerCase() };
  });
}

export function gatewayName(g: Gateway): string {
  return `${g.metadata.namespace}/${g.metadata.name}`;
}

export function gatewayVirtualHosts(scope: ProxyScope, clusters: ClusterSet, servers: readonly BoundServer[], port: number, gatewayNames: ReadonlySet<string>): VirtualHost[] {
  const ctx: RouteContext = { scope, clusters, audience: { gateways: gatewayNames, labels: scope.node.labels, namespace: scope.node.namespace, port } };
  const byName = new Map<string, { routes: Route[]; contributed: Set<VirtualServiceEntry>; redirect: boolean }>();
  for (const bound of servers) {
    const redirect = bound.server.tls?.httpsRedirect === true;
    const vss = scope.snapshot.virtualServices.forGateway(gatewayName(bound.gateway), bound.gateway.metadata.namespace);
    for (const sh of serverHosts(bound)) {
      let matched = false;
      for (const vs of vss) {
        if (sh.namespace !== '*' && sh.namespace !== vs.resource.metadata.namespace) continue;
        for (const vsHost of vs.hosts) {
          if (!hostsIntersect(vsHost, sh.host)) continue;
          matched = true;
          const host = hostCovers(sh.host, vsHost) ? vsHost : sh.host;
          const entry = byName.get(host) ?? { routes: [], contributed: new Set(), redirect: false };
          byName.set(host, entry);
          entry.redirect ||= redirect;
          if (entry.contributed.has(vs)) continue;
          entry.contributed.add(vs);
          entry.routes.push(...translateHttpRoutes(vs, ctx));
        }
      }
      // Istio still answers the redirect for a host no VirtualService serves.
      if (!matched && redirect && !byName.has(sh.host)) byName.set(sh.host, { routes: [], contributed: new Set(), redirect: true });
    }
  }
  const hosts: VirtualHost[] = [...byName.entries()].map(([host, e]) => ({
    name: `${host}:${port}`,
    domains: domainsFor(host),
    routes: e.redirect ? [httpsRedirectRoute()] : sortRoutes(e.routes),
  }));
  hosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (hosts.length === 0) hosts.push({ name: `blackhole:${port}`, domains: ['*'], routes: [] });
  return hosts;
}

/** The host, and any port on it (a gateway is reached on mapped ports); wildcards cannot take a port. */
function domainsFor(host: string): string[] {
  return host.startsWith('*') ? [host] : [host, `${host}:*`];
}

function httpsRedirectRoute(): Route {
  return { name: 'https-redirect', match: { path: { prefix: '/' } }, action: { kind: 'redirect', scheme: 'https', derivePort: 'FROM_PROTOCOL_DEFAULT', code: 301 } };
}

/** Istio's SortVHostRoutes: catch-all routes go last, the rest keep their order. */
function sortRoutes(routes: Route[]): Route[] {
  return [...routes.filter((r) => !isCatchAll(r.match)), ...routes.filter((r) => isCatchAll(r.match))];
}
