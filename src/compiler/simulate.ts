/**
 * "This request, through this proxy's config, goes to which listener, route and cluster?"
 * (Istio's pilot/pkg/simulation). A small resolver over a compiled ProxyConfig with Envoy's
 * selection rules, kept simple: listener by address and port (a specific address beats 0.0.0.0),
 * the first filter chain whose match fits, the virtual host by domain (exact, then the longest
 * `*.suffix`, then the longest `prefix*`, then `*`), the first route whose path (exact, prefix,
 * regex over the whole path, case as configured), headers, query parameters and claims all match.
 */
import { RE2JS } from 're2js';
import type { FilterChain, Listener, ProxyConfig, Route, StringMatcher, VirtualHost, WeightedCluster } from '../proxy-config/index.js';

export interface SimulatedRequest {
  port: number;
  /** Destination address (a service VIP); absent: any. */
  address?: string;
  /** The Host header (HTTP) or SNI (TLS). */
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Validated JWT claims, for claim routes. */
  claims?: Record<string, unknown>;
  /** Set for TLS connections: the SNI the client sends. */
  sni?: string;
}

export interface SimulationResult {
  listener?: string;
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  route?: string;
  /** What happens: forwarded (HTTP or TCP), redirected, answered directly, or an error outcome. */
  outcome: 'forward' | 'tcp' | 'redirect' | 'direct-response' | 'cluster-not-found' | 'no-route' | 'no-listener' | 'no-filter-chain';
  /** The destination cluster (the first, when weighted). */
  cluster?: string;
  clusters?: WeightedCluster[];
  /** The status the client sees for local answers: 404 NR, 503 NC, direct responses, redirects. */
  status?: number;
}

export function simulate(config: ProxyConfig, req: SimulatedRequest): SimulationResult {
  const listener = pickListener(config.listeners, req);
  if (!listener) return { outcome: 'no-listener' };
  const chain = listener.filterChains.find((c) => chainMatches(c, req)) ?? listener.defaultChain;
  if (!chain) return { listener: listener.name, outcome: 'no-filter-chain' };
  const base = { listener: listener.name, filterChain: chain.name };
  if (chain.protocol === 'tcp' || !chain.http) {
    const clusters = chain.tcp?.clusters ?? [];
    return { ...base, outcome: 'tcp', ...(clusters[0] ? { cluster: clusters[0].cluster } : {}), clusters };
  }
  const routeConfig = config.routes.find((r) => r.name === chain.http?.routeConfig);
  const at = { ...base, routeConfig: chain.http.routeConfig };
  const vhost = routeConfig ? pickVirtualHost(routeConfig.virtualHosts, req.host ?? '') : undefined;
  if (!vhost) return { ...at, outcome: 'no-route', status: 404 };
  const route = vhost.routes.find((r) => routeMatches(r, req));
  if (!route) return { ...at, virtualHost: vhost.name, outcome: 'no-route', status: 404 };
  const done = { ...at, virtualHost: vhost.name, route: route.name };
  const a = route.action;
  switch (a.kind) {
    case 'forward': {
      const known = new Set(config.clusters.map((c) => c.name));
      const first = a.clusters[0]?.cluster;
      if (first !== undefined && a.clusters.length === 1 && !known.has(first)) return { ...done, outcome: 'cluster-not-found', cluster: first, status: 503 };
      return { ...done, outcome: 'forward', ...(first ? { cluster: first } : {}), clusters: a.clusters };
    }
    case 'redirect': return { ...done, outcome: 'redirect', status: a.code };
    case 'direct-response': return { ...done, outcome: 'direct-response', status: a.status };
    case 'cluster-not-found': return { ...done, outcome: 'cluster-not-found', cluster: a.cluster, status: 503 };
  }
}

function pickListener(listeners: readonly Listener[], req: SimulatedRequest): Listener | undefined {
  const onPort = listeners.filter((l) => l.port === req.port && l.name !== 'virtualOutbound' && l.name !== 'virtualInbound');
  const specific = req.address ? onPort.find((l) => l.address === req.address) : undefined;
  // A sidecar's capture listener takes what no port listener does.
  return specific ?? onPort.find((l) => l.address === '0.0.0.0') ?? listeners.find((l) => l.name === 'virtualOutbound');
}

function chainMatches(chain: FilterChain, req: SimulatedRequest): boolean {
  const m = chain.match;
  const tls = req.sni !== undefined;
  if (m.transportProtocol && m.transportProtocol !== (tls ? 'tls' : 'raw_buffer')) return false;
  if (m.destinationPort !== undefined && m.destinationPort !== req.port) return false;
  if (m.applicationProtocols && !tls && !m.applicationProtocols.includes('http/1.1')) return false;
  if (m.applicationProtocols && tls) return false;
  if (m.serverNames && !m.serverNames.some((p) => domainMatches(p, req.sni ?? ''))) return false;
  return true;
}

function domainMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === '*' || p === h) return true;
  if (p.startsWith('*')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  if (p.endsWith('*')) return h.startsWith(p.slice(0, -1));
  return false;
}

/** Envoy's order: exact domain, then the longest suffix wildcard, then the longest prefix wildcard, then `*`. */
function pickVirtualHost(hosts: readonly VirtualHost[], host: string): VirtualHost | undefined {
  const h = host.toLowerCase();
  const exact = hosts.find((v) => v.domains.some((d) => d.toLowerCase() === h));
  if (exact) return exact;
  let best: { v: VirtualHost; len: number; kind: number } | undefined;
  for (const v of hosts) {
    for (const d of v.domains) {
      const kind = d === '*' ? 0 : d.startsWith('*') ? 2 : d.endsWith('*') ? 1 : -1;
      if (kind < 0 || !domainMatches(d, h)) continue;
      if (!best || kind > best.kind || (kind === best.kind && d.length > best.len)) best = { v, len: d.length, kind };
    }
  }
  return best?.v;
}

function routeMatches(route: Route, req: SimulatedRequest): boolean {
  const m = route.match;
  const path = req.path ?? '/';
  const pathOnly = path.split('?')[0] ?? path;
  if (m.path && !stringMatches(m.path, pathOnly)) return false;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  headers[':method'] = req.method ?? 'GET';
  headers[':authority'] = req.host ?? '';
  headers[':scheme'] = req.sni !== undefined ? 'https' : 'http';
  for (const h of m.headers ?? []) {
    const value = headers[h.name];
    const ok = value !== undefined && stringMatches(h.match, value);
    if (ok === !!h.invert) return false;
  }
  const query = new URLSearchParams(path.includes('?') ? path.slice(path.indexOf('?') + 1) : '');
  for (const q of m.queryParams ?? []) {
    const value = query.get(q.name);
    if (value === null || !stringMatches(q.match, value)) return false;
  }
  for (const c of m.claims ?? []) {
    let value: unknown = req.claims;
    for (const key of c.path) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const values = Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
    const ok = values.some((v) => stringMatches(c.match, v));
    if (ok === !!c.invert) return false;
  }
  return true;
}

function stringMatches(m: StringMatcher, value: string): boolean {
  if ('present' in m) return true;
  if ('regex' in m) return RE2JS.compile(m.regex).matches(value);
  const ci = m.ignoreCase === true;
  const v = ci ? value.toLowerCase() : value;
  if ('exact' in m) return v === (ci ? m.exact.toLowerCase() : m.exact);
  if ('prefix' in m) return v.startsWith(ci ? m.prefix.toLowerCase() : m.prefix);
  return v.endsWith(ci ? m.suffix.toLowerCase() : m.suffix);
}
