/**
 * Istio's virtualservice.DestinationHostAnalyzer (destinationhosts.go, with util/service_lookup.go):
 * every route and mirror destination names a Service or ServiceEntry host visible where the
 * VirtualService is (IST0101), names a port the service has (IST0101 `host:port`), and names a
 * port when the service has several (IST0112). Like Istio it also warns (IST0140) when a
 * gateway-bound route sends to a host without a subset while a mesh VirtualService for that host
 * routes by subset: the gateway does not go through that VirtualService, so its subsets do not apply.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ResourceOf } from '../kinds.js';
import type { Destination, VirtualServiceSpec } from '../istio/virtual-service.js';
import { resolveHost } from '../hosts.js';
import { Messages } from '../messages.js';
import type { AnalysisContext, Analyzer } from './context.js';
import { meshIndex } from './mesh-index.js';

type VirtualService = ResourceOf<'VirtualService'>;

/** A destination and where it was written (Istio's AnnotatedDestination). */
export interface PlacedDestination {
  destination: Destination;
  /** Field path of `destination.host` from the document root. */
  path: FieldPath;
}

/** Route destinations in Istio's order (tcp, tls, http). */
export function routeDestinations(vs: VirtualServiceSpec): PlacedDestination[] {
  const out: PlacedDestination[] = [];
  for (const kind of ['tcp', 'tls', 'http'] as const) {
    (vs[kind] ?? []).forEach((rule, i) => {
      (rule.route ?? []).forEach((rd, j) => out.push({ destination: rd.destination, path: ['spec', kind, i, 'route', j, 'destination', 'host'] }));
    });
  }
  return out;
}

/** `mirror` and `mirrors[]` destinations of the HTTP rules. */
export function mirrorDestinations(vs: VirtualServiceSpec): PlacedDestination[] {
  const out: PlacedDestination[] = [];
  (vs.http ?? []).forEach((rule, i) => {
    if (rule.mirror) out.push({ destination: rule.mirror, path: ['spec', 'http', i, 'mirror', 'host'] });
    (rule.mirrors ?? []).forEach((m, j) => out.push({ destination: m.destination, path: ['spec', 'http', i, 'mirrors', j, 'destination', 'host'] }));
  });
  return out;
}

/**
 * The namespaces a VirtualService looks up exported hosts from, as Istio's GetDestinationHost
 * does: its exportTo (`.` being its own namespace), or its own namespace when exportTo is empty.
 */
export function lookupScopes(vs: VirtualService): string[] {
  const ns = vs.metadata.namespace;
  const exportTo = vs.spec.exportTo ?? [];
  return exportTo.length === 0 ? [ns] : exportTo.map((e) => (e === '.' ? ns : e));
}

/** Hosts by `scope/fqdn`, where scope is `*` or the one namespace the host is exported to. */
type HostMap = Map<string, number[]>;

/** Istio's InitServiceEntryHostMap; the gateway Services an install would create count as exported to all. */
function serviceHosts(ctx: AnalysisContext): HostMap {
  const suffix = ctx.mesh.domainSuffix;
  const map: HostMap = new Map();
  for (const se of ctx.of('ServiceEntry')) {
    const ns = se.metadata.namespace;
    const exportTo = se.spec.exportTo ?? [];
    const scopes = exportTo.length === 0 || exportTo.includes('*') ? ['*'] : exportTo.map((e) => (e === '.' ? ns : e));
    const ports = (se.spec.ports ?? []).map((p) => p.number);
    for (const host of se.spec.hosts) for (const scope of scopes) map.set(`${scope}/${resolveHost(host, ns, suffix)}`, ports);
  }
  for (const svc of ctx.of('Service')) {
    const ns = svc.metadata.namespace;
    const annotation = svc.metadata.annotations?.['networking.istio.io/exportTo'] ?? '';
    const scopes = annotation === '' ? ['*'] : annotation.split(',').map((e) => e.trim()).map((e) => (e === '.' ? ns : e));
    const ports = (svc.spec.ports ?? []).map((p) => p.port);
    for (const scope of scopes) map.set(`${scope}/${resolveHost(svc.metadata.name, ns, suffix)}`, ports);
  }
  for (const s of meshIndex(ctx).services) {
    if (s.implied && !map.has(`*/${s.host}`)) map.set(`*/${s.host}`, s.ports.map((p) => p.number));
  }
  return map;
}

/** Istio's GetDestinationHost: the ports of the service `host` names, or undefined when none is visible. */
function findHost(map: HostMap, vs: VirtualService, host: string, suffix: string): number[] | undefined {
  const ns = vs.metadata.namespace;
  const fqdn = resolveHost(host, ns, suffix);
  for (const scope of ['*', ...lookupScopes(vs)]) {
    const found = map.get(`${scope}/${fqdn}`);
    if (found) return found;
  }
  // Wildcard ServiceEntry hosts, seen only when exported to all or to the VirtualService's namespace.
  // Istio compares the host as written; the FQDN also lets `*.svc.cluster.local` cover short names.
  const wanted = fqdn.startsWith('*') ? fqdn.slice(1) : fqdn;
  for (const [key, ports] of map) {
    const slash = key.indexOf('/');
    const scope = key.slice(0, slash);
    const seHost = key.slice(slash + 1);
    if (!seHost.startsWith('*') || (scope !== '*' && scope !== ns)) continue;
    if (wanted.endsWith(seHost.slice(1))) return ports;
  }
  return undefined;
}

/** Istio's checkServiceEntryPorts. */
function checkPorts(ctx: AnalysisContext, vs: VirtualService, d: PlacedDestination, ports: number[]): void {
  const { host, port } = d.destination;
  if (!port) {
    if (ports.length > 1) ctx.report(vs, Messages.VirtualServiceDestinationPortSelectorRequired, [host, ports], d.path);
    return;
  }
  const number = port.number ?? 0;
  if (!ports.includes(number)) ctx.report(vs, Messages.ReferencedResourceNotFound, ['host:port', `${host}:${number}`], d.path);
}

/**
 * Istio's analyzeSubset (IST0140), with hosts compared as FQDNs in each VirtualService's namespace
 * where Istio compares the strings as written, and one report per route and VirtualService where
 * Istio repeats it for every matching subset destination.
 */
function checkIngressSubsets(ctx: AnalysisContext, vs: VirtualService): void {
  if ((vs.spec.gateways ?? []).length === 0) return;
  const suffix = ctx.mesh.domainSuffix;
  const subsetRouted = new Map<string, Set<string>>();
  for (const other of ctx.of('VirtualService')) {
    const ons = other.metadata.namespace;
    const ownHosts = new Set((other.spec.hosts ?? []).map((h) => resolveHost(h, ons, suffix)));
    for (const rule of other.spec.http ?? []) {
      for (const rd of rule.route ?? []) {
        const fqdn = resolveHost(rd.destination.host, ons, suffix);
        if (!rd.destination.subset || !ownHosts.has(fqdn)) continue;
        const set = subsetRouted.get(fqdn) ?? new Set<string>();
        set.add(`${ons}/${other.metadata.name}`);
        subsetRouted.set(fqdn, set);
      }
    }
  }
  const self = `${vs.metadata.namespace}/${vs.metadata.name}`;
  (vs.spec.http ?? []).forEach((rule, i) => {
    (rule.route ?? []).forEach((rd, j) => {
      if (rd.destination.subset) return;
      const others = subsetRouted.get(resolveHost(rd.destination.host, vs.metadata.namespace, suffix)) ?? [];
      for (const name of others) {
        ctx.report(vs, Messages.IngressRouteRulesNotAffected, [name, self], ['spec', 'http', i, 'route', j, 'destination', 'host']);
      }
    });
  });
}

export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'VirtualService destinations name existing hosts (IST0101) and a port when the service has several (IST0112)',
  analyze(ctx) {
    const hosts = serviceHosts(ctx);
    const suffix = ctx.mesh.domainSuffix;
    for (const vs of ctx.of('VirtualService')) {
      for (const [what, list] of [['host', routeDestinations(vs.spec)], ['mirror host', mirrorDestinations(vs.spec)]] as const) {
        for (const d of list) {
          const ports = findHost(hosts, vs, d.destination.host, suffix);
          if (ports) checkPorts(ctx, vs, d, ports);
          else ctx.report(vs, Messages.ReferencedResourceNotFound, [what, d.destination.host], d.path);
        }
      }
      checkIngressSubsets(ctx, vs);
    }
  },
};
