/**
 * The mesh as the analyzers see it: services (Kubernetes Services and ServiceEntry hosts, by
 * FQDN), workloads (Deployments' pod templates and WorkloadEntries) and namespaces. Files alone
 * do not describe the gateways an install creates, so the gateways of the IstioOperator among the
 * inputs, or of the default profile when there is none, are added as the workloads and Services
 * `weft install` would create; otherwise every Gateway would point at nothing.
 */
import type { AnyResource, ResourceOf } from '../kinds.js';
import { resolveHost } from '../hosts.js';
import type { AnalysisContext } from './context.js';

export interface ServicePortInfo {
  number: number;
  name?: string;
  /** Kubernetes protocol (TCP/UDP/SCTP) or Istio protocol name for ServiceEntry ports. */
  protocol?: string;
  appProtocol?: string;
  targetPort?: number | string;
}

export interface MeshService {
  /** Fully qualified host, e.g. `reviews.default.svc.cluster.local` or `api.example.com`. */
  host: string;
  namespace: string;
  ports: ServicePortInfo[];
  /** Pod labels the service selects (Kubernetes Services, ServiceEntry workloadSelector). */
  selector?: Record<string, string>;
  resource?: AnyResource;
  /** True for services an install creates that are not in the input files. */
  implied: boolean;
}

export interface MeshWorkload {
  kind: 'Deployment' | 'WorkloadEntry';
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccount: string;
  /** Container ports with their names, for targetPort resolution. */
  ports: { name?: string; containerPort: number; protocol?: string }[];
  resource?: AnyResource;
  implied: boolean;
}

export interface MeshIndex {
  services: MeshService[];
  servicesByHost: Map<string, MeshService[]>;
  workloads: MeshWorkload[];
  /** Namespaces named by Namespace resources, with their labels. */
  namespaces: Map<string, Record<string, string>>;
}

const INDEX = new WeakMap<AnalysisContext, MeshIndex>();

/** The index for a context, built once and shared by every analyzer. */
export function meshIndex(ctx: AnalysisContext): MeshIndex {
  let index = INDEX.get(ctx);
  if (!index) {
    index = buildIndex(ctx);
    INDEX.set(ctx, index);
  }
  return index;
}

/** True when every label of `selector` is on `labels` (an empty selector selects everything). */
export function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function formatLabels(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
}

function buildIndex(ctx: AnalysisContext): MeshIndex {
  const services: MeshService[] = [];
  const workloads: MeshWorkload[] = [];
  const namespaces = new Map<string, Record<string, string>>();
  const suffix = ctx.mesh.domainSuffix;

  for (const ns of ctx.of('Namespace')) namespaces.set(ns.metadata.name, { ...(ns.metadata.labels ?? {}) });
  for (const svc of ctx.of('Service')) services.push(fromService(svc, suffix));
  for (const se of ctx.of('ServiceEntry')) {
    for (const host of se.spec.hosts) {
      services.push({
        host: resolveHost(host, se.metadata.namespace, suffix),
        namespace: se.metadata.namespace,
        ports: (se.spec.ports ?? []).map((p) => ({ number: p.number, name: p.name, protocol: p.protocol, targetPort: p.targetPort })),
        selector: se.spec.workloadSelector?.labels,
        resource: se,
        implied: false,
      });
    }
  }
  for (const d of ctx.of('Deployment')) {
    const template = d.spec.template;
    workloads.push({
      kind: 'Deployment',
      name: d.metadata.name,
      namespace: d.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations: { ...(template.metadata?.annotations ?? {}) },
      serviceAccount: template.spec.serviceAccountName ?? 'default',
      ports: template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol }))),
      resource: d,
      implied: false,
    });
  }
  for (const we of ctx.of('WorkloadEntry')) {
    workloads.push({
      kind: 'WorkloadEntry',
      name: we.metadata.name,
      namespace: we.metadata.namespace,
      labels: { ...(we.spec.labels ?? {}) },
      annotations: {},
      serviceAccount: we.spec.serviceAccount ?? 'default',
      ports: Object.entries(we.spec.ports ?? {}).map(([name, containerPort]) => ({ name, containerPort })),
      resource: we,
      implied: false,
    });
  }
  for (const gw of installedGateways(ctx)) {
    const present = workloads.some((w) => w.namespace === gw.namespace && labelsMatch(gw.labels, w.labels));
    if (present) continue;
    workloads.push({ kind: 'Deployment', name: gw.name, namespace: gw.namespace, labels: gw.labels, annotations: {}, serviceAccount: `${gw.name}-service-account`, ports: GATEWAY_CONTAINER_PORTS, implied: true });
    if (!services.some((s) => s.host === `${gw.name}.${gw.namespace}.svc.${suffix}`)) {
      services.push({ host: `${gw.name}.${gw.namespace}.svc.${suffix}`, namespace: gw.namespace, ports: GATEWAY_SERVICE_PORTS, selector: gw.labels, implied: true });
    }
  }

  const servicesByHost = new Map<string, MeshService[]>();
  for (const s of services) {
    const list = servicesByHost.get(s.host) ?? [];
    list.push(s);
    servicesByHost.set(s.host, list);
  }
  return { services, servicesByHost, workloads, namespaces };
}

function fromService(svc: ResourceOf<'Service'>, suffix: string): MeshService {
  return {
    host: `${svc.metadata.name}.${svc.metadata.namespace}.svc.${suffix}`,
    namespace: svc.metadata.namespace,
    ports: (svc.spec.ports ?? []).map((p) => ({ number: p.port, name: p.name, protocol: p.protocol, appProtocol: p.appProtocol, targetPort: p.targetPort })),
    selector: svc.spec.selector,
    resource: svc,
    implied: false,
  };
}

/** The gateway chart's Service and container ports (Istio's gateway values.yaml defaults). */
const GATEWAY_SERVICE_PORTS: ServicePortInfo[] = [
  { number: 15021, name: 'status-port', protocol: 'TCP', targetPort: 15021 },
  { number: 80, name: 'http2', protocol: 'TCP', targetPort: 8080 },
  { number: 443, name: 'https', protocol: 'TCP', targetPort: 8443 },
];
const GATEWAY_CONTAINER_PORTS = [
  { name: 'http-envoy-prom', containerPort: 15090 },
  { containerPort: 15021 },
  { containerPort: 8080 },
  { containerPort: 8443 },
];

interface InstalledGateway {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

interface GatewayComponentLike {
  name?: string;
  namespace?: string;
  enabled?: boolean;
  label?: Record<string, string>;
}

/** Gateways an install creates: from the IstioOperator in the input, or the default profile's. */
function installedGateways(ctx: AnalysisContext): InstalledGateway[] {
  const operator = ctx.of('IstioOperator')[0];
  const spec = (operator?.raw.spec ?? {}) as { profile?: string; namespace?: string; components?: { ingressGateways?: GatewayComponentLike[]; egressGateways?: GatewayComponentLike[] } };
  const profile = spec.profile ?? 'default';
  const installNs = spec.namespace ?? 'istio-system';
  const defaults: Record<string, { ingress: boolean; egress: boolean }> = {
    default: { ingress: true, egress: false },
    demo: { ingress: true, egress: true },
    minimal: { ingress: false, egress: false },
    empty: { ingress: false, egress: false },
    remote: { ingress: false, egress: false },
    ambient: { ingress: false, egress: false },
  };
  const base = defaults[profile] ?? { ingress: true, egress: false };
  const out: InstalledGateway[] = [];
  const add = (list: GatewayComponentLike[] | undefined, fallbackName: string, istioLabel: string, enabledByProfile: boolean): void => {
    const entries = list && list.length > 0 ? list : [{ name: fallbackName, enabled: enabledByProfile }];
    for (const c of entries) {
      const name = c.name ?? fallbackName;
      const isDefault = name === fallbackName;
      if (!(c.enabled ?? (isDefault ? enabledByProfile : false))) continue;
      out.push({ name, namespace: c.namespace ?? installNs, labels: { app: name, istio: istioLabel, ...(c.label ?? {}) } });
    }
  };
  add(spec.components?.ingressGateways, 'istio-ingressgateway', 'ingressgateway', base.ingress);
  add(spec.components?.egressGateways, 'istio-egressgateway', 'egressgateway', base.egress);
  return out;
}
