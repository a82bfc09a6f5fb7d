/**
 * Which proxies a change can affect (Istio's ConfigAffectsProxy and SidecarScope.DependsOnConfig,
 * pilot/pkg/xds/proxy_dependencies.go), so the control plane recompiles only those and every other
 * proxy keeps its config and version. Two steps: `describeChange(prev, next)` diffs two snapshots
 * once per change into what changed (service hosts, workload instances, configs by kind), then
 * `proxyAffected(change, node)` answers per proxy in time proportional to the change, not to the
 * mesh. It must be conservative: a proxy whose compiled config could differ between the two
 * snapshots must get `true` (an extra recompile costs CPU; a missed one serves stale routes), and
 * dependencies.test.ts checks exactly that against full recompiles. Each rule mirrors what the
 * compiler reads: scope.ts (visibility, Sidecar egress), sidecar-routes.ts (VirtualService hosts
 * naming no service), listeners/inbound.ts (the pod's own service targets), security/ (policies),
 * telemetry/ (Telemetry resources, matched like policies).
 */
import type { AnyResource } from '../resources/index.js';
import { hostCovers, hostsIntersect } from '../resources/index.js';
import { isVisibleTo, labelsMatch, parseExportTo, type Registry, type Service, type Visibility, type WorkloadInstance } from '../registry/index.js';
import type { ProxyNode } from '../proxy-config/index.js';
import type { Snapshot } from './snapshot.js';
import type { Sidecar } from './snapshot/gateways-sidecars.js';
import { MESH_GATEWAY, type VirtualServiceEntry } from './snapshot/virtual-services.js';
import { changedResources, fingerprint, type PolicyChange } from './dependencies/diff.js';

export interface ConfigChange {
  readonly prev: Snapshot;
  readonly next: Snapshot;
  /** Mesh options changed (meshConfig, IstioOperator, Telemetry), or a kind with no rule here: every proxy. */
  readonly all: boolean;
  /** Hostnames whose service (in any namespace) or endpoints differ. */
  readonly hosts: ReadonlySet<string>;
  /** For each changed host, the sidecar VirtualServices (old and new) whose hosts intersect it. */
  readonly vsByHost: ReadonlyMap<string, readonly VirtualServiceEntry[]>;
  /** `namespace|ip` of workload instances that appeared, went or changed (labels, readiness, ports). */
  readonly instances: ReadonlySet<string>;
  /** Old and new versions of every root VirtualService that changed (delegates expanded). */
  readonly virtualServices: readonly VirtualServiceEntry[];
  readonly destinationRules: readonly { namespace: string; exportTo: Visibility; hosts: readonly string[] }[];
  /**
   * Hosts of services in, or with endpoints in, a namespace whose PeerAuthentication changed: a
   * client's auto mTLS reads the service namespace's policy and each endpoint workload's
   * (clusters/tls.ts), so their clients are affected as well as the workloads themselves.
   */
  readonly peerAuthnHosts: ReadonlySet<string>;
  /** Selectors (old and new) of changed Gateways. */
  readonly gatewaySelectors: readonly (Record<string, string> | undefined)[];
  readonly sidecarNamespaces: ReadonlySet<string>;
  readonly policies: readonly PolicyChange[];
}

/** True when nothing a proxy's config is made from changed (every proxy keeps its config). */
export function isEmptyChange(c: ConfigChange): boolean {
  return !c.all && c.hosts.size === 0 && c.peerAuthnHosts.size === 0 && c.instances.size === 0 && c.virtualServices.length === 0 && c.destinationRules.length === 0
    && c.gatewaySelectors.length === 0 && c.sidecarNamespaces.size === 0 && c.policies.length === 0;
}

/**
 * What changed between two snapshots. `prevResources`/`nextResources` are the resource sets the
 * snapshots were built from (the snapshot keeps indexes, not every resource).
 */
export function describeChange(prev: Snapshot, next: Snapshot, prevResources: readonly AnyResource[], nextResources: readonly AnyResource[]): ConfigChange {
  const resources = changedResources(prevResources, nextResources, next.mesh);
  const peerAuthnNamespaces = new Set(resources.policies.filter((p) => p.kind === 'PeerAuthentication').map((p) => p.namespace));
  // A mesh-wide PeerAuthentication reaches every inbound listener and every client's auto mTLS.
  const all = fingerprint(prev.mesh) !== fingerprint(next.mesh) || resources.unknownKinds.length > 0 || peerAuthnNamespaces.has(next.mesh.rootNamespace);
  const hosts = changedHosts(prev.registry, next.registry);
  const instances = changedInstances(prev.registry, next.registry);
  const virtualServices = changedVirtualServices(prev.virtualServices.all, next.virtualServices.all);

  const destinationRules = resources.destinationRules.map((dr) => {
    const exportTo = parseExportTo(dr.spec.exportTo, dr.metadata.namespace, next.mesh.defaultDestinationRuleExportTo);
    const covered = new Set<string>();
    for (const registry of [prev.registry, next.registry]) {
      for (const s of registry.services) if (hostCovers(dr.host, s.hostname)) covered.add(s.hostname);
    }
    return { namespace: dr.metadata.namespace, exportTo, hosts: [...covered] };
  });

  const vsByHost = new Map<string, VirtualServiceEntry[]>();
  for (const host of hosts) {
    const entries = [...prev.virtualServices.all, ...next.virtualServices.all]
      .filter((vs) => vs.gateways.has(MESH_GATEWAY) && vs.hosts.some((h) => hostsIntersect(h, host)));
    if (entries.length > 0) vsByHost.set(host, entries);
  }

  return {
    prev, next, all, hosts, vsByHost, instances, virtualServices, destinationRules,
    peerAuthnHosts: peerAuthnNamespaces.size > 0 ? servicesServedFrom(peerAuthnNamespaces, prev.registry, next.registry) : new Set(),
    gatewaySelectors: resources.gateways.map((g) => g.spec.selector),
    sidecarNamespaces: new Set(resources.sidecars.map((s) => s.metadata.namespace)),
    policies: resources.policies,
  };
}

/** Whether this proxy's compiled config can differ between the change's two snapshots. */
export function proxyAffected(change: ConfigChange, node: ProxyNode): boolean {
  if (change.all) return true;
  const { prev, next } = change;
  const isSidecar = node.role === 'sidecar';
  const root = next.mesh.rootNamespace;
  const sidecars = isSidecar ? [sidecarFor(prev, node), sidecarFor(next, node)] : [];
  const admitted = (s: Service) => isVisibleTo(s.exportTo, node.namespace) && (!isSidecar || sidecars.some((sc) => egressAdmits(sc, node, s.namespace, s.hostname)));
  const sees = (host: string) => prev.registry.servicesByHost(host).some(admitted) || next.registry.servicesByHost(host).some(admitted);
  const seesVs = (vs: VirtualServiceEntry) => vs.gateways.has(MESH_GATEWAY) && isVisibleTo(vs.exportTo, node.namespace)
    && sidecars.some((sc) => vs.hosts.some((h) => egressAdmits(sc, node, vs.resource.metadata.namespace, h)));

  if (isSidecar && change.sidecarNamespaces.size > 0 && (change.sidecarNamespaces.has(node.namespace) || change.sidecarNamespaces.has(root))) return true;
  if (change.instances.has(instanceKey(node.namespace, node.ip))) return true;
  for (const p of change.policies) {
    if ((p.namespace === root || p.namespace === node.namespace) && (p.targeted || labelsMatch(p.selector, node.labels))) return true;
  }
  if (!isSidecar && change.gatewaySelectors.some((sel) => labelsMatch(sel, node.labels))) return true;

  if (change.hosts.size > 0) {
    const own = [ownInstance(prev, node), ownInstance(next, node)];
    for (const host of change.hosts) {
      if (sees(host)) return true;
      // The inbound listener serves every service selecting this pod, whoever else sees it.
      if (own.some((i, n) => i !== undefined && (n === 0 ? prev : next).registry.serviceTargets(i).some((t) => t.service.hostname === host))) return true;
      // A VirtualService host that names no service gets a virtual host of its own (sidecar-routes.ts).
      if (isSidecar && change.vsByHost.get(host)?.some(seesVs)) return true;
    }
  }
  for (const host of change.peerAuthnHosts) if (sees(host)) return true;
  for (const dr of change.destinationRules) {
    if ((dr.namespace === node.namespace || dr.namespace === root || isVisibleTo(dr.exportTo, node.namespace)) && dr.hosts.some(sees)) return true;
  }
  for (const vs of change.virtualServices) {
    if (isSidecar ? seesVs(vs) : gatewaysOf(prev, node).concat(gatewaysOf(next, node)).some((g) => vs.gateways.has(g))) return true;
  }
  return false;
}

// ------------------------------------------------------------------ scope, as scope.ts reads it

function sidecarFor(snapshot: Snapshot, node: ProxyNode): Sidecar | undefined {
  return snapshot.sidecars.forProxy(node.namespace, node.labels);
}

/** scope.ts's egress rule without the port: `ns/host` entries, `*` any namespace, `.` the workload's, `~` none. */
function egressAdmits(sidecar: Sidecar | undefined, node: ProxyNode, namespace: string, host: string): boolean {
  const egress = sidecar?.spec.egress;
  if (!egress) return true;
  return egress.some((l) => l.hosts.some((entry) => {
    const slash = entry.indexOf('/');
    const ns = slash < 0 ? '*' : entry.slice(0, slash);
    const pattern = slash < 0 ? entry : entry.slice(slash + 1);
    if (ns === '~') return false;
    if (ns !== '*' && (ns === '.' ? node.namespace : ns) !== namespace) return false;
    return hostsIntersect(pattern, host);
  }));
}

function gatewaysOf(snapshot: Snapshot, node: ProxyNode): string[] {
  return snapshot.gateways.forProxy(node.labels).map((g) => `${g.metadata.namespace}/${g.metadata.name}`);
}

const instanceIndex = new WeakMap<Registry, Map<string, WorkloadInstance>>();

/** The registry's instance for the proxy's pod, as scope.ts finds it (first by namespace and ip). */
function ownInstance(snapshot: Snapshot, node: ProxyNode): WorkloadInstance | undefined {
  let index = instanceIndex.get(snapshot.registry);
  if (!index) {
    index = new Map();
    for (const i of snapshot.registry.instances) {
      const key = instanceKey(i.namespace, i.ip);
      if (!index.has(key)) index.set(key, i);
    }
    instanceIndex.set(snapshot.registry, index);
  }
  return index.get(instanceKey(node.namespace, node.ip));
}

function instanceKey(namespace: string, ip: string): string {
  return `${namespace}|${ip}`;
}

// ------------------------------------------------------------------ diffs

function servicesServedFrom(namespaces: ReadonlySet<string>, ...registries: Registry[]): Set<string> {
  const out = new Set<string>();
  for (const registry of registries) {
    for (const s of registry.services) {
      if (namespaces.has(s.namespace) || s.ports.some((p) => registry.endpoints(s, p.port).some((e) => namespaces.has(e.workload?.namespace ?? e.serviceNamespace)))) out.add(s.hostname);
    }
  }
  return out;
}

// A registry's fingerprints are kept with it: the next change's `prev` is this change's `next`,
// so each registry is fingerprinted once (a pod going ready costs one pass, not two).
const hostPrints = new WeakMap<Registry, Map<string, string[]>>();
const instancePrints = new WeakMap<Registry, Map<string, string[]>>();

function remembered(cache: WeakMap<Registry, Map<string, string[]>>, registry: Registry, build: (registry: Registry) => Map<string, string[]>): Map<string, string[]> {
  let prints = cache.get(registry);
  if (!prints) cache.set(registry, (prints = build(registry)));
  return prints;
}

/** Hosts whose services or any of their ports' endpoints differ (a VIP moved, a pod became ready...). */
function changedHosts(prev: Registry, next: Registry): Set<string> {
  const of = (registry: Registry) => {
    const byHost = new Map<string, string[]>();
    for (const s of registry.services) {
      const list = byHost.get(s.hostname) ?? [];
      list.push(fingerprint([s, s.ports.map((p) => registry.endpoints(s, p.port))]));
      byHost.set(s.hostname, list);
    }
    return byHost;
  };
  return changedKeys(remembered(hostPrints, prev, of), remembered(hostPrints, next, of));
}

function changedInstances(prev: Registry, next: Registry): Set<string> {
  const of = (registry: Registry) => {
    const byKey = new Map<string, string[]>();
    for (const i of registry.instances) {
      const key = instanceKey(i.namespace, i.ip);
      const list = byKey.get(key) ?? [];
      list.push(fingerprint(i));
      byKey.set(key, list);
    }
    return byKey;
  };
  return changedKeys(remembered(instancePrints, prev, of), remembered(instancePrints, next, of));
}

function changedVirtualServices(prev: readonly VirtualServiceEntry[], next: readonly VirtualServiceEntry[]): VirtualServiceEntry[] {
  const key = (e: VirtualServiceEntry) => `${e.resource.metadata.namespace}/${e.resource.metadata.name}`;
  const print = (e: VirtualServiceEntry) => fingerprint([e.resource.metadata.creationTimestamp ?? '', e.resource.spec, e.http]);
  const before = new Map(prev.map((e) => [key(e), e]));
  const after = new Map(next.map((e) => [key(e), e]));
  const out: VirtualServiceEntry[] = [];
  for (const [k, e] of before) {
    const other = after.get(k);
    if (!other || print(other) !== print(e)) out.push(e, ...(other ? [other] : []));
  }
  for (const [k, e] of after) if (!before.has(k)) out.push(e);
  return out;
}

function changedKeys(before: Map<string, string[]>, after: Map<string, string[]>): Set<string> {
  const out = new Set<string>();
  for (const [k, prints] of before) {
    const other = after.get(k);
    if (!other || other.length !== prints.length || other.some((p, i) => p !== prints[i])) out.add(k);
  }
  for (const k of after.keys()) if (!before.has(k)) out.add(k);
  return out;
}
