/**
 * buildRegistry: every service the mesh knows (Kubernetes Services, ServiceEntry hosts), their
 * endpoints over the running instances, and the lookups the compiler and the runtime's DNS need.
 * Built once per change and read-only afterwards; every list is in a fixed order, so anything
 * derived from it is deterministic.
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { MeshOptions, Service, ServiceEndpoint, WorkloadInstance } from './types.js';
import { serviceFromKube, kubeEndpoints } from './kube-services.js';
import { servicesFromEntry, entryEndpoints } from './service-entries.js';
import { allocateVips, SERVICE_CIDR, AUTO_ALLOCATE_CIDR } from './vip.js';
import { isVisibleTo } from './visibility.js';

/** A port of a service that selects an instance: what its inbound listener serves. */
export interface ServiceTarget {
  service: Service;
  port: number;
  /** The instance port the service port forwards to. */
  targetPort: number;
}

export interface Registry {
  readonly mesh: MeshOptions;
  /** Sorted by hostname, then namespace. */
  readonly services: readonly Service[];
  readonly instances: readonly WorkloadInstance[];
  /** Every service with this hostname (a ServiceEntry host may be defined in several namespaces). */
  servicesByHost(hostname: string): readonly Service[];
  /** The service a client in `clientNamespace` reaches by this hostname: own namespace first, then the oldest visible. */
  lookup(hostname: string, clientNamespace: string): Service | undefined;
  endpoints(service: Service, port: number): readonly ServiceEndpoint[];
  /** The service ports whose endpoints include this instance. */
  serviceTargets(instance: WorkloadInstance): readonly ServiceTarget[];
  /** DNS names of a Kubernetes service as a client in `clientNamespace` may write them; FQDN first. */
  dnsNames(service: Service, clientNamespace: string): string[];
  /** Resolves `name`, `name.ns`, `name.ns.svc`, the FQDN or a ServiceEntry host, as the runtime's DNS will. */
  resolveDnsName(name: string, clientNamespace: string): Service | undefined;
}

export function buildRegistry(resources: readonly AnyResource[], instances: readonly WorkloadInstance[], mesh: MeshOptions): Registry {
  const kube = resources.filter((r): r is ResourceOf<'Service'> => r.kind === 'Service');
  const entries = resources.filter((r): r is ResourceOf<'ServiceEntry'> => r.kind === 'ServiceEntry');
  const workloadEntries = resources.filter((r): r is ResourceOf<'WorkloadEntry'> => r.kind === 'WorkloadEntry');

  const written = new Set(kube.map((s) => s.spec.clusterIP).filter((ip): ip is string => !!ip && ip !== 'None'));
  const vips = allocateVips(kube.filter((s) => !s.spec.clusterIP).map((s) => `${s.metadata.namespace}/${s.metadata.name}`), SERVICE_CIDR, written);

  // Endpoints are the ready instances only, as Kubernetes' endpoints controller lists them; a
  // proxy's own service targets come from every running instance (see WorkloadInstance.ready).
  const serving = instances.filter((i) => i.ready);
  const unready = instances.length !== serving.length;
  const services: Service[] = [];
  const endpointsByKey = new Map<string, Map<number, ServiceEndpoint[]>>();
  const targetEndpointsByKey = new Map<string, Map<number, ServiceEndpoint[]>>();
  const addEndpoints = (service: Service, of: (from: readonly WorkloadInstance[]) => Map<number, ServiceEndpoint[]>) => {
    const ready = of(serving);
    endpointsByKey.set(key(service), ready);
    targetEndpointsByKey.set(key(service), unready ? of(instances) : ready);
  };
  for (const svc of kube) {
    const vip = svc.spec.clusterIP || vips.get(`${svc.metadata.namespace}/${svc.metadata.name}`);
    const service = serviceFromKube(svc, vip, mesh);
    services.push(service);
    addEndpoints(service, (from) => kubeEndpoints(svc, service, from, workloadEntries));
  }
  const seServices: Service[] = [];
  for (const se of entries) {
    for (const service of servicesFromEntry(se, mesh)) {
      seServices.push(service);
      addEndpoints(service, (from) => entryEndpoints(se, service, from, workloadEntries));
    }
  }
  const auto = allocateVips(seServices.filter((s) => s.addresses.length === 0 && !s.hostname.startsWith('*')).map(key), AUTO_ALLOCATE_CIDR);
  for (const s of seServices) {
    const allocated = auto.get(key(s));
    services.push(allocated ? { ...s, autoAllocatedVip: allocated } : s);
  }
  services.sort((a, b) => compare(a.hostname, b.hostname) || compare(a.namespace, b.namespace) || compare(a.source.kind, b.source.kind));

  const byHost = new Map<string, Service[]>();
  for (const s of services) {
    const list = byHost.get(s.hostname) ?? [];
    list.push(s);
    byHost.set(s.hostname, list);
  }
  // Istio prefers a Kubernetes Service over a ServiceEntry for the same host, then the oldest.
  for (const list of byHost.values()) {
    list.sort((a, b) => compare(kindRank(a), kindRank(b)) || compare(a.creationTimestamp, b.creationTimestamp) || compare(a.source.name, b.source.name) || compare(a.namespace, b.namespace));
  }

  const targetsByInstance = new Map<string, ServiceTarget[]>();
  for (const s of services) {
    const eps = targetEndpointsByKey.get(key(s));
    for (const port of s.ports) {
      for (const ep of eps?.get(port.port) ?? []) {
        if (!ep.workload) continue;
        const instKey = `${ep.workload.namespace}|${ep.address}`;
        const list = targetsByInstance.get(instKey) ?? [];
        list.push({ service: s, port: port.port, targetPort: ep.port });
        targetsByInstance.set(instKey, list);
      }
    }
  }

  const lookup = (hostname: string, clientNamespace: string): Service | undefined => {
    const visible = (byHost.get(hostname.toLowerCase()) ?? []).filter((s) => isVisibleTo(s.exportTo, clientNamespace));
    return visible.find((s) => s.namespace === clientNamespace) ?? visible[0];
  };

  return {
    mesh,
    services,
    instances: [...instances],
    servicesByHost: (hostname) => byHost.get(hostname.toLowerCase()) ?? [],
    lookup,
    endpoints: (service, port) => endpointsByKey.get(key(service))?.get(port) ?? [],
    serviceTargets: (instance) => targetsByInstance.get(`${instance.namespace}|${instance.ip}`) ?? [],
    dnsNames: (service, clientNamespace) => dnsNames(service, clientNamespace),
    resolveDnsName: (name, clientNamespace) => {
      const n = name.toLowerCase().replace(/\.$/, '');
      for (const candidate of expandDnsName(n, clientNamespace, mesh)) {
        const s = lookup(candidate, clientNamespace);
        if (s) return s;
      }
      return undefined;
    },
  };
}

/** Kubernetes' search path: `name` in the client's namespace, `name.ns`, `name.ns.svc`, then as written. */
function expandDnsName(name: string, clientNamespace: string, mesh: MeshOptions): string[] {
  const dots = name.split('.').length - 1;
  const suffix = mesh.domainSuffix;
  if (dots === 0) return [`${name}.${clientNamespace}.svc.${suffix}`, name];
  if (dots === 1) return [`${name}.svc.${suffix}`, name];
  if (name.endsWith('.svc')) return [`${name}.${suffix}`, name];
  return [name];
}

function dnsNames(service: Service, clientNamespace: string): string[] {
  if (service.source.kind !== 'Service') return [service.hostname];
  const base = `${service.name}.${service.namespace}`;
  const names = [service.hostname, `${base}.svc`, base];
  if (service.namespace === clientNamespace) names.push(service.name);
  return names;
}

function key(s: Service): string {
  return `${s.namespace}|${s.hostname}|${s.source.kind}`;
}

function kindRank(s: Service): string {
  return s.source.kind === 'Service' ? '0' : '1';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
