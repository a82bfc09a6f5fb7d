/**
 * Virtual host selection by Host/:authority, in Envoy's order (RouteMatcher::findVirtualHost):
 * exact domain, then suffix wildcards (`*.example.com`, `*-bar.example.com`) longest first, then
 * prefix wildcards (`foo.*`) longest first, then `*`. Case-insensitive. A wildcard never matches
 * the empty string, so `*.example.com` does not take `.example.com` (nor `example.com`).
 *
 * Istio sets ignore_port_in_host_matching on every route configuration, so the port is stripped
 * from the authority before matching. Domains written with a port (`reviews:9080`) still match
 * exactly, against the authority's port or, when it has none, the request's destination port.
 */
import type { RouteConfiguration, VirtualHost } from '../../proxy-config/index.js';

interface Wildcard {
  /** The domain without its `*`: `.example.com` for a suffix, `foo.` for a prefix. */
  fixed: string;
  vhost: VirtualHost;
}

interface HostIndex {
  exact: Map<string, VirtualHost>;
  suffixes: Wildcard[];
  prefixes: Wildcard[];
  any: VirtualHost | undefined;
  /** Some exact domain carries a port, so `host:port` is worth a lookup. */
  portDomains: boolean;
}

const indexes = new WeakMap<RouteConfiguration, HostIndex>();

/** ASCII lower case (as absl::AsciiStrToLower), returning the same string when nothing changes. */
export function asciiLower(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  }
  return s;
}

/** Index of the `:` before the port, or -1 (Envoy HeaderUtility::getPortStart; `[v6]` aware). */
export function portStart(authority: string): number {
  const colon = authority.lastIndexOf(':');
  if (colon === -1) return -1;
  const v6End = authority.lastIndexOf(']');
  return v6End === -1 || v6End < colon ? colon : -1;
}

function byLengthDescending(a: Wildcard, b: Wildcard): number {
  return b.fixed.length - a.fixed.length;
}

function buildIndex(config: RouteConfiguration): HostIndex {
  const index: HostIndex = { exact: new Map(), suffixes: [], prefixes: [], any: undefined, portDomains: false };
  const vhosts: unknown[] = Array.isArray(config.virtualHosts) ? config.virtualHosts : [];
  for (const vhost of vhosts) {
    if (typeof vhost !== 'object' || vhost === null) continue;
    const vh = vhost as VirtualHost;
    for (const raw of Array.isArray(vh.domains) ? vh.domains : []) {
      if (typeof raw !== 'string' || raw === '') continue;
      const domain = asciiLower(raw);
      // Envoy rejects duplicate domains; keeping the first makes a bad push still deterministic.
      if (domain === '*') index.any ??= vh;
      else if (domain.startsWith('*')) index.suffixes.push({ fixed: domain.slice(1), vhost: vh });
      else if (domain.endsWith('*')) index.prefixes.push({ fixed: domain.slice(0, -1), vhost: vh });
      else if (!index.exact.has(domain)) {
        index.exact.set(domain, vh);
        if (portStart(domain) !== -1) index.portDomains = true;
      }
    }
  }
  // Array.prototype.sort is stable, so equal lengths keep config order (first wins).
  index.suffixes.sort(byLengthDescending);
  index.prefixes.sort(byLengthDescending);
  return index;
}

function indexFor(config: RouteConfiguration): HostIndex {
  let index = indexes.get(config);
  if (index === undefined) {
    index = buildIndex(config);
    indexes.set(config, index);
  }
  return index;
}

/** The virtual host serving `authority` (Host header, with or without `:port`), if any. */
export function selectVirtualHost(config: RouteConfiguration, authority: string, port: number): VirtualHost | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const index = indexFor(config);
  const lower = asciiLower(typeof authority === 'string' ? authority : '');
  const colon = portStart(lower);
  const host = colon === -1 ? lower : lower.slice(0, colon);

  if (index.portDomains) {
    const withPort = colon !== -1 ? lower : port > 0 ? `${host}:${port}` : undefined;
    const exact = withPort !== undefined ? index.exact.get(withPort) : undefined;
    if (exact !== undefined) return exact;
  }
  const exact = index.exact.get(host);
  if (exact !== undefined) return exact;
  for (const w of index.suffixes) {
    if (w.fixed.length < host.length && host.endsWith(w.fixed)) return w.vhost;
  }
  for (const w of index.prefixes) {
    if (w.fixed.length < host.length && host.startsWith(w.fixed)) return w.vhost;
  }
  return index.any;
}
