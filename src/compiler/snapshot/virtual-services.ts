/**
 * VirtualServices indexed once per change: hosts resolved in the VirtualService's namespace, the
 * gateways each applies to (`mesh` when none are listed; match-level gateways count too, as in
 * Istio's getGatewayNames), visibility from exportTo, and delegate routes expanded in place. Each
 * HTTP route remembers the namespace its destinations resolve in (a delegate's own), and where it
 * came from.
 */
import type { AnyResource, ResourceOf } from '../../resources/index.js';
import { resolveHost } from '../../resources/index.js';
import type { HTTPRoute } from '../../resources/istio/virtual-service.js';
import { parseExportTo, isVisibleTo, type MeshOptions, type Visibility } from '../../registry/index.js';
import type { ConfigSource } from '../../proxy-config/index.js';
import { compareConfigs, sourceOf } from './order.js';
import { mergeDelegateRoute } from './delegate.js';

export type VirtualService = ResourceOf<'VirtualService'>;

export const MESH_GATEWAY = 'mesh';

export interface HttpRouteEntry {
  route: HTTPRoute;
  /** Namespace short destination hosts resolve in. */
  namespace: string;
  source: ConfigSource;
  /** Index within the owning VirtualService, for route names. */
  index: number;
}

export interface VirtualServiceEntry {
  resource: VirtualService;
  /** Hosts as FQDNs (short names resolved in the VirtualService's namespace), lower case. */
  hosts: string[];
  /** `mesh` or `namespace/name` of each gateway the VirtualService (or one of its matches) names. */
  gateways: ReadonlySet<string>;
  /** The top-level `gateways` only (default `mesh`): what routes without match-level gateways apply to. */
  topGateways: ReadonlySet<string>;
  exportTo: Visibility;
  http: HttpRouteEntry[];
}

export interface VirtualServiceIndex {
  /** Every root VirtualService, oldest first. */
  readonly all: readonly VirtualServiceEntry[];
  /** VirtualServices for sidecars (gateway `mesh`) visible to a namespace. */
  forMesh(namespace: string): VirtualServiceEntry[];
  /** VirtualServices bound to a gateway (`ns/name`) and exported to the gateway's namespace. */
  forGateway(gateway: string, gatewayNamespace: string): VirtualServiceEntry[];
}

/** `name` means the gateway in the VirtualService's namespace; `mesh` stays `mesh`. */
export function qualifyGateway(name: string, vsNamespace: string): string {
  if (name === MESH_GATEWAY || name.includes('/')) return name;
  return `${vsNamespace}/${name}`;
}

export function indexVirtualServices(resources: readonly AnyResource[], mesh: MeshOptions): VirtualServiceIndex {
  const all = resources.filter((r): r is VirtualService => r.kind === 'VirtualService').sort(compareConfigs);
  const delegates = new Map<string, VirtualService>();
  for (const vs of all) if ((vs.spec.hosts ?? []).length === 0) delegates.set(`${vs.metadata.namespace}/${vs.metadata.name}`, vs);

  const roots: VirtualServiceEntry[] = [];
  for (const vs of all) {
    if ((vs.spec.hosts ?? []).length === 0) continue;
    const ns = vs.metadata.namespace;
    const topGateways = new Set<string>((vs.spec.gateways?.length ? vs.spec.gateways : [MESH_GATEWAY]).map((g) => qualifyGateway(g, ns)));
    const gateways = new Set(topGateways);
    for (const route of vs.spec.http ?? []) for (const m of route.match ?? []) for (const g of m.gateways ?? []) gateways.add(qualifyGateway(g, ns));
    roots.push({
      resource: vs,
      hosts: (vs.spec.hosts ?? []).map((h) => resolveHost(h, ns, mesh.domainSuffix)),
      gateways,
      topGateways,
      exportTo: parseExportTo(vs.spec.exportTo, ns, mesh.defaultVirtualServiceExportTo),
      http: expandHttp(vs, delegates, mesh),
    });
  }
  return {
    all: roots,
    forMesh: (namespace) => roots.filter((e) => e.gateways.has(MESH_GATEWAY) && isVisibleTo(e.exportTo, namespace)),
    forGateway: (gateway, gatewayNamespace) => roots.filter((e) => e.gateways.has(gateway) && isVisibleTo(e.exportTo, gatewayNamespace)),
  };
}

function expandHttp(vs: VirtualService, delegates: ReadonlyMap<string, VirtualService>, mesh: MeshOptions): HttpRouteEntry[] {
  const out: HttpRouteEntry[] = [];
  const ns = vs.metadata.namespace;
  (vs.spec.http ?? []).forEach((route, i) => {
    if (!route.delegate) {
      out.push({ route, namespace: ns, source: sourceOf(vs, `spec.http[${i}]`), index: i });
      return;
    }
    const target = delegates.get(`${route.delegate.namespace ?? ns}/${route.delegate.name ?? ''}`);
    // A missing delegate, or one not exported to the root's namespace, contributes no routes (as in Istio).
    if (!target || !isVisibleTo(parseExportTo(target.spec.exportTo, target.metadata.namespace, mesh.defaultVirtualServiceExportTo), ns)) return;
    (target.spec.http ?? []).forEach((leaf, j) => {
      // One level only: a delegate's own delegate is ignored.
      if (leaf.delegate) return;
      const merged = mergeDelegateRoute(route, leaf);
      if (merged) out.push({ route: merged, namespace: target.metadata.namespace, source: sourceOf(target, `spec.http[${j}]`), index: i });
    });
  });
  return out;
}
