/**
 * The tables `weft proxy-config` prints by default, with istioctl's columns, so an Istio user reads
 * them without a manual. Every table is derived from the compiled config alone.
 */
import type { Cluster, ClusterLoadAssignment, Listener, ProxyConfig, RouteConfiguration, RouteMatch, StringMatcher } from '../../proxy-config/index.js';

export const KINDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secret'] as const;
export type Kind = (typeof KINDS)[number];

export interface Table {
  header: string[];
  rows: string[][];
}

export function tableFor(kind: Kind, config: ProxyConfig): Table {
  switch (kind) {
    case 'clusters':
      return { header: ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'], rows: config.clusters.map(clusterRow) };
    case 'listeners':
      return { header: ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'], rows: config.listeners.flatMap(listenerRows) };
    case 'routes':
      return { header: ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], rows: config.routes.flatMap(routeRows) };
    case 'endpoints':
      return { header: ['ENDPOINT', 'STATUS', 'CLUSTER'], rows: config.endpoints.flatMap(endpointRows) };
    case 'secret':
      return {
        header: ['RESOURCE NAME', 'TYPE', 'STATUS'],
        rows: config.secrets.map((s) => [s.name, s.trustedCa !== undefined ? 'Ca' : 'Cert Chain', s.certificateChain !== undefined || s.trustedCa !== undefined ? 'ACTIVE' : 'PENDING (issued by the CA)']),
      };
  }
}

/** The part of the config one kind covers, for `-o json`. */
export function jsonFor(kind: Kind, config: ProxyConfig): unknown {
  switch (kind) {
    case 'clusters':
      return config.clusters;
    case 'listeners':
      return config.listeners;
    case 'routes':
      return config.routes;
    case 'endpoints':
      return config.endpoints;
    case 'secret':
      return config.secrets;
  }
}

function clusterRow(c: Cluster): string[] {
  // Istio's names carry direction, port, subset and host: `outbound|9080|v1|reviews.default.svc.cluster.local`.
  const [direction = '', port = '', subset = '', host = ''] = c.name.split('|');
  const named = c.name.includes('|');
  const dr = c.source?.kind === 'DestinationRule' ? `${c.source.name}.${c.source.namespace}` : '';
  return [
    c.service?.host ?? (named ? host : c.name),
    c.service ? String(c.service.port) : named ? port : '-',
    c.service?.subset ?? (named ? subset || '-' : '-'),
    named ? direction : '-',
    c.discovery.toUpperCase().replace('-', '_'),
    dr,
  ].map((cell) => cell || '-');
}

function listenerRows(l: Listener): string[][] {
  const chains = [...l.filterChains, ...(l.defaultChain ? [l.defaultChain] : [])];
  return chains.map((chain) => {
    const m = chain.match;
    const match = [
      m.serverNames?.length ? `SNI: ${m.serverNames.join(',')}` : '',
      m.transportProtocol ? `Trans: ${m.transportProtocol}` : '',
      m.applicationProtocols?.length ? `App: ${m.applicationProtocols.join(',')}` : '',
      m.destinationPort !== undefined ? `Port: ${m.destinationPort}` : '',
    ].filter((s) => s !== '').join('; ') || 'ALL';
    const destination = chain.http ? `Route: ${chain.http.routeConfig}` : chain.tcp ? `Cluster: ${chain.tcp.clusters.map((c) => c.cluster).join(',')}` : '-';
    return [l.address, String(l.port), match, destination];
  });
}

function routeRows(r: RouteConfiguration): string[][] {
  return r.virtualHosts.flatMap((vh) => vh.routes.map((route) => [
    r.name,
    vh.name,
    vh.domains.length > 3 ? `${vh.domains.slice(0, 3).join(',')} + ${vh.domains.length - 3} more...` : vh.domains.join(','),
    matchText(route.match),
    route.source?.kind === 'VirtualService' ? `${route.source.name}.${route.source.namespace}` : '-',
  ]));
}

function matchText(m: RouteMatch): string {
  const parts = [m.path ? stringMatch(m.path) : '/*'];
  for (const h of m.headers ?? []) parts.push(`${h.invert ? '!' : ''}${h.name}=${stringMatch(h.match)}`);
  for (const q of m.queryParams ?? []) parts.push(`?${q.name}=${stringMatch(q.match)}`);
  return parts.join(' ');
}

function stringMatch(m: StringMatcher): string {
  if ('exact' in m) return m.exact;
  if ('prefix' in m) return `${m.prefix}*`;
  if ('suffix' in m) return `*${m.suffix}`;
  if ('regex' in m) return `~${m.regex}`;
  return '(present)';
}

function endpointRows(a: ClusterLoadAssignment): string[][] {
  return a.endpoints.map((e) => [`${e.address}:${e.port}`, e.healthy ? 'HEALTHY' : 'UNHEALTHY', a.cluster]);
}
