/**
 * Kubernetes Services as registry services: the hostname `<name>.<ns>.svc.<suffix>`, ports with
 * Istio's protocol selection, a VIP (the written clusterIP, else a deterministic one), and the
 * endpoints Kubernetes' endpoints controller would list: the instances (and WorkloadEntries, as
 * Istio adds them) in the Service's namespace that its selector matches, with each port's
 * targetPort resolved, by name against the container ports.
 */
import type { ResourceOf } from '../resources/index.js';
import type { MeshOptions, Service, ServiceEndpoint, ServicePort, WorkloadInstance } from './types.js';
import { kubePortProtocol } from './protocol.js';
import { exportToAnnotation, parseExportTo } from './visibility.js';
import { labelsMatch, workloadEntryTlsMode } from './labels.js';
import { entryLocality, withLocality } from './locality.js';

type KubeService = ResourceOf<'Service'>;
type WorkloadEntry = ResourceOf<'WorkloadEntry'>;

export function kubeHostname(name: string, namespace: string, mesh: MeshOptions): string {
  return `${name}.${namespace}.svc.${mesh.domainSuffix}`;
}

/** The registry service for one Kubernetes Service; `vip` comes from the caller's allocation. */
export function serviceFromKube(svc: KubeService, vip: string | undefined, mesh: MeshOptions): Service {
  const { name, namespace } = svc.metadata;
  const spec = svc.spec;
  const ports: ServicePort[] = (spec.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: kubePortProtocol(p),
    targetPort: p.targetPort,
  }));
  const externalName = spec.type === 'ExternalName';
  const headless = spec.clusterIP === 'None';
  return {
    hostname: kubeHostname(name, namespace, mesh),
    name,
    namespace,
    ports,
    ...(vip && !headless && !externalName ? { vip } : {}),
    addresses: vip && !headless && !externalName ? [vip] : [],
    // Headless services are reached by pod address (original destination); ExternalName by DNS.
    resolution: externalName ? 'DNS' : headless ? 'PASSTHROUGH' : 'EDS',
    location: 'MESH_INTERNAL',
    exportTo: parseExportTo(exportToAnnotation(svc.metadata.annotations), namespace, mesh.defaultServiceExportTo),
    ...(spec.selector ? { selector: { ...spec.selector } } : {}),
    creationTimestamp: svc.metadata.creationTimestamp ?? '',
    source: { kind: 'Service', namespace, name },
  };
}

/** Endpoints per service port number. */
export function kubeEndpoints(svc: KubeService, service: Service, instances: readonly WorkloadInstance[], entries: readonly WorkloadEntry[]): Map<number, ServiceEndpoint[]> {
  const out = new Map<number, ServiceEndpoint[]>();
  for (const port of service.ports) out.set(port.port, []);
  if (svc.spec.type === 'ExternalName') {
    const target = (svc.spec.externalName ?? '').replace(/\.$/, '');
    for (const port of service.ports) out.get(port.port)?.push(endpoint(service, port, target, port.port, {}, 'disabled'));
    return out;
  }
  // A Service without a selector has manually managed Endpoints, which Weft has no kind for.
  const selector = service.selector;
  if (!selector) return out;
  for (const inst of instances) {
    if (inst.namespace !== service.namespace || !labelsMatch(selector, inst.labels)) continue;
    for (const port of service.ports) {
      const target = resolveTargetPort(port, (name) => inst.ports.find((p) => p.name === name)?.containerPort);
      if (target === undefined) continue;
      out.get(port.port)?.push({
        ...endpoint(service, port, inst.ip, target, inst.labels, inst.tlsMode),
        workload: { name: inst.workload, namespace: inst.namespace, serviceAccount: inst.serviceAccount },
        ...withLocality(inst.locality),
      });
    }
  }
  for (const we of entries) {
    const labels = we.spec.labels ?? {};
    if (we.metadata.namespace !== service.namespace || !labelsMatch(selector, labels) || !we.spec.address) continue;
    for (const port of service.ports) {
      const target = we.spec.ports?.[port.name] ?? resolveTargetPort(port, (name) => we.spec.ports?.[name]);
      if (target === undefined) continue;
      out.get(port.port)?.push({
        ...endpoint(service, port, we.spec.address, target, labels, workloadEntryTlsMode(labels)),
        weight: we.spec.weight ?? 1,
        workload: { name: we.metadata.name, namespace: we.metadata.namespace, serviceAccount: we.spec.serviceAccount ?? 'default' },
        ...withLocality(entryLocality(we.spec.locality, labels)),
      });
    }
  }
  return out;
}

/** A numeric targetPort is used as is; a name must match a container port, else no endpoint (as Kubernetes). */
function resolveTargetPort(port: ServicePort, byName: (name: string) => number | undefined): number | undefined {
  const target = port.targetPort ?? port.port;
  return typeof target === 'number' ? target : byName(target);
}

function endpoint(service: Service, port: ServicePort, address: string, target: number, labels: Record<string, string>, tlsMode: 'istio' | 'disabled'): ServiceEndpoint {
  return {
    hostname: service.hostname,
    serviceNamespace: service.namespace,
    servicePort: port.port,
    address,
    port: target,
    labels: { ...labels },
    tlsMode,
    weight: 1,
    healthy: true,
  };
}
