/**
 * ServiceEntries as registry services, one per host (Istio's convertServices): ports with their
 * protocol, the first plain address as VIP, resolution and location, and endpoints from the
 * static `endpoints`, from the `workloadSelector` over instances and WorkloadEntries, or, for
 * DNS resolution without either, the host itself (the proxy resolves it).
 */
import type { ResourceOf } from '../resources/index.js';
import type { MeshOptions, Resolution, Service, ServiceEndpoint, ServicePort, WorkloadInstance } from './types.js';
import { parseProtocol } from './protocol.js';
import { parseExportTo } from './visibility.js';
import { labelsMatch, workloadEntryTlsMode } from './labels.js';
import { entryLocality, withLocality } from './locality.js';

type ServiceEntry = ResourceOf<'ServiceEntry'>;
type WorkloadEntry = ResourceOf<'WorkloadEntry'>;

const RESOLUTION: Record<ServiceEntry['spec']['resolution'], Resolution> = {
  NONE: 'PASSTHROUGH',
  STATIC: 'EDS',
  DNS: 'DNS',
  DNS_ROUND_ROBIN: 'DNS_ROUND_ROBIN',
  DYNAMIC_DNS: 'DNS',
};

export function servicesFromEntry(se: ServiceEntry, mesh: MeshOptions): Service[] {
  const { name, namespace } = se.metadata;
  const spec = se.spec;
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name,
    port: p.number,
    protocol: parseProtocol(p.protocol),
    ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
  }));
  const addresses = spec.addresses ?? [];
  // A CIDR cannot be a listener address; only a plain IP becomes the VIP.
  const vip = addresses.find((a) => !a.includes('/'));
  return spec.hosts.map((host) => ({
    hostname: host.toLowerCase(),
    name: host.toLowerCase(),
    namespace,
    ports,
    ...(vip ? { vip } : {}),
    addresses: [...addresses],
    resolution: RESOLUTION[spec.resolution],
    location: spec.location,
    exportTo: parseExportTo(spec.exportTo, namespace, mesh.defaultServiceExportTo),
    ...(spec.workloadSelector?.labels ? { selector: { ...spec.workloadSelector.labels } } : {}),
    creationTimestamp: se.metadata.creationTimestamp ?? '',
    source: { kind: 'ServiceEntry', namespace, name },
  }));
}

export function entryEndpoints(se: ServiceEntry, service: Service, instances: readonly WorkloadInstance[], entries: readonly WorkloadEntry[]): Map<number, ServiceEndpoint[]> {
  const out = new Map<number, ServiceEndpoint[]>();
  const external = service.location === 'MESH_EXTERNAL';
  for (const port of service.ports) {
    const list: ServiceEndpoint[] = [];
    out.set(port.port, list);
    const base = { hostname: service.hostname, serviceNamespace: service.namespace, servicePort: port.port, healthy: true };
    const defaultTarget = typeof port.targetPort === 'number' ? port.targetPort : port.port;
    if (service.resolution === 'PASSTHROUGH') continue;
    if (se.spec.endpoints) {
      for (const ep of se.spec.endpoints) {
        if (!ep.address) continue;
        const labels = { ...(ep.labels ?? {}) };
        list.push({ ...base, address: ep.address, port: ep.ports?.[port.name] ?? defaultTarget, labels, weight: ep.weight ?? 1, tlsMode: external ? 'disabled' : workloadEntryTlsMode(labels), ...withLocality(entryLocality(ep.locality, labels)) });
      }
    } else if (service.selector) {
      const selector = service.selector;
      for (const inst of instances) {
        if (inst.namespace !== service.namespace || !labelsMatch(selector, inst.labels)) continue;
        list.push({
          ...base, address: inst.ip, port: defaultTarget, labels: { ...inst.labels }, weight: 1,
          tlsMode: external ? 'disabled' : inst.tlsMode,
          workload: { name: inst.workload, namespace: inst.namespace, serviceAccount: inst.serviceAccount },
          ...withLocality(inst.locality),
        });
      }
      for (const we of entries) {
        const labels = we.spec.labels ?? {};
        if (we.metadata.namespace !== service.namespace || !labelsMatch(selector, labels) || !we.spec.address) continue;
        list.push({
          ...base, address: we.spec.address, port: we.spec.ports?.[port.name] ?? defaultTarget, labels: { ...labels }, weight: we.spec.weight ?? 1,
          tlsMode: external ? 'disabled' : workloadEntryTlsMode(labels),
          workload: { name: we.metadata.name, namespace: we.metadata.namespace, serviceAccount: we.spec.serviceAccount ?? 'default' },
          ...withLocality(entryLocality(we.spec.locality, labels)),
        });
      }
    } else if (!service.hostname.startsWith('*') && service.resolution !== 'EDS') {
      // DNS resolution with no endpoints: the proxy resolves the host itself.
      list.push({ ...base, address: service.hostname, port: defaultTarget, labels: {}, weight: 1, tlsMode: 'disabled' });
    }
  }
  return out;
}
