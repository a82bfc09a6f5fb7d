/**
 * What one proxy can see (Istio's SidecarScope): the services and VirtualServices visible to its
 * namespace, narrowed by the Sidecar resource that applies to it (egress `ns/host` entries,
 * optionally per port), its outbound traffic policy, and DestinationRule lookup from its namespace.
 */
import type { ProxyNode } from '../proxy-config/index.js';
import { hostCovers, hostsIntersect } from '../resources/index.js';
import { isVisibleTo, type Service, type WorkloadInstance } from '../registry/index.js';
import type { Snapshot } from './snapshot.js';
import type { Sidecar } from './snapshot/gateways-sidecars.js';
import type { VirtualServiceEntry } from './snapshot/virtual-services.js';
import type { MergedDestinationRule } from './snapshot/destination-rules.js';

export interface ProxyScope {
  readonly snapshot: Snapshot;
  readonly node: ProxyNode;
  /** Names what `services`, `admitsPort` and `meshVirtualServices` depend on: role, namespace and Sidecar. */
  readonly visibilityKey: string;
  /** The registry's instance for this proxy's pod, when the registry knows it. */
  readonly instance?: WorkloadInstance;
  readonly sidecar?: Sidecar;
  readonly outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** Services this proxy may reach, in registry order. */
  readonly services: readonly Service[];
  admitsPort(service: Service, port: number): boolean;
  /** VirtualServices for sidecars (`mesh`) this proxy sees; empty for gateways. */
  readonly meshVirtualServices: readonly VirtualServiceEntry[];
  /** The service behind an FQDN as this proxy resolves it, if visible. */
  lookupService(hostname: string): Service | undefined;
  destinationRule(service: Service): MergedDestinationRule | undefined;
}

/** What a proxy sees by its namespace and Sidecar alone; the same for every proxy alike in those. */
interface Visibility {
  readonly key: string;
  readonly services: readonly Service[];
  readonly meshVirtualServices: readonly VirtualServiceEntry[];
  readonly byHost: ReadonlyMap<string, Service>;
  admits(service: Service, port: number | undefined): boolean;
}

// Per snapshot, so a Sidecar's egress filter runs over the registry once per namespace, not once per proxy.
const visibilities = new WeakMap<Snapshot, Map<string, Visibility>>();
const sidecarIds = new WeakMap<Sidecar, number>();
let sidecarCount = 0;

export function proxyScope(snapshot: Snapshot, node: ProxyNode): ProxyScope {
  const { registry, mesh } = snapshot;
  const instance = registry.instances.find((i) => i.ip === node.ip && i.namespace === node.namespace);
  const isSidecar = node.role === 'sidecar';
  const sidecar = isSidecar ? snapshot.sidecars.forProxy(node.namespace, node.labels) : undefined;
  let id = 0;
  if (sidecar) {
    id = sidecarIds.get(sidecar) ?? ++sidecarCount;
    sidecarIds.set(sidecar, id);
  }
  const key = `${isSidecar ? 'sidecar' : 'gateway'}|${node.namespace}|${id}`;
  let byKey = visibilities.get(snapshot);
  if (!byKey) {
    byKey = new Map();
    visibilities.set(snapshot, byKey);
  }
  let seen = byKey.get(key);
  if (!seen) {
    seen = visibility(snapshot, key, node.namespace, isSidecar, sidecar);
    byKey.set(key, seen);
  }
  const { services, meshVirtualServices, byHost, admits } = seen;
  const policy = sidecar?.spec.outboundTrafficPolicy?.mode ?? mesh.outboundTrafficPolicy;

  return {
    snapshot,
    node,
    visibilityKey: key,
    ...(instance ? { instance } : {}),
    ...(sidecar ? { sidecar } : {}),
    outboundTrafficPolicy: policy,
    services,
    admitsPort: (service, port) => admits(service, port),
    meshVirtualServices,
    lookupService: (hostname) => byHost.get(hostname.toLowerCase()),
    destinationRule: (service) => snapshot.destinationRules.lookup({ namespace: node.namespace, labels: node.labels }, service.hostname, service.namespace),
  };
}

function visibility(snapshot: Snapshot, key: string, namespace: string, isSidecar: boolean, sidecar: Sidecar | undefined): Visibility {
  const { registry } = snapshot;
  const egress = sidecar?.spec.egress;
  // Egress host entries are `ns/host`: `*` any namespace, `~` none, `.` the workload's own: a
  // Sidecar applies in its own namespace, and the root namespace's default Sidecar with `./*`
  // keeps every workload to its own namespace (Istio's ConvertToSidecarScope).
  const entryAdmits = (entry: string, serviceNamespace: string, host: string): boolean => {
    const slash = entry.indexOf('/');
    const ns = slash < 0 ? '*' : entry.slice(0, slash);
    const pattern = slash < 0 ? entry : entry.slice(slash + 1);
    if (ns === '~') return false;
    if (ns !== '*' && (ns === '.' ? namespace : ns) !== serviceNamespace) return false;
    return hostCovers(pattern, host) || hostsIntersect(pattern, host);
  };
  const admits = (service: Service, port: number | undefined): boolean => {
    if (!egress) return true;
    return egress.some((l) => (port === undefined || l.port?.number === undefined || l.port.number === port)
      && l.hosts.some((h) => entryAdmits(h, service.namespace, service.hostname)));
  };

  const services = registry.services.filter((s) => isVisibleTo(s.exportTo, namespace) && admits(s, undefined)
    // Two services can share a hostname (ServiceEntries in several namespaces); keep the one this namespace resolves to.
    && registry.lookup(s.hostname, namespace) === s);
  const meshVirtualServices = isSidecar
    ? snapshot.virtualServices.forMesh(namespace).filter((vs) => !egress || egress.some((l) => l.hosts.some((h) => vs.hosts.some((host) => entryAdmits(h, vs.resource.metadata.namespace, host)))))
    : [];
  const byHost = new Map(services.map((s) => [s.hostname, s]));
  return { key, services, meshVirtualServices, byHost, admits };
}
