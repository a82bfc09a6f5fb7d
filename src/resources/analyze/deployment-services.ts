/**
 * Port of Istio's deployment.ServiceAssociationAnalyzer (analyzers/deployment/services.go): for
 * a Deployment in the mesh, the Services of its namespace that select its pods must not expose
 * one port with different protocols (IST0116), nor reach one targetPort through different ports
 * (IST0137). A Deployment selected by no Service is not reported: Istio retired that message
 * (IST0117).
 */
import { Messages } from '../messages.js';
import type { ResourceOf } from '../kinds.js';
import type { AnalysisContext, Analyzer } from './context.js';
import { labelsMatch } from './mesh-index.js';

type Deployment = ResourceOf<'Deployment'>;
type Service = ResourceOf<'Service'>;

export const deploymentServiceAnalyzer: Analyzer = {
  name: 'deployment.ServiceAssociationAnalyzer',
  description: 'a Deployment selected by several Services with conflicting ports or protocols (IST0116, IST0137)',
  analyze(ctx) {
    for (const d of ctx.of('Deployment')) {
      if (isWaypoint(d) || !deploymentInMesh(ctx, d)) continue;
      const services = matchingServices(ctx, d);
      reportProtocolConflicts(ctx, d, services);
      reportTargetPortConflicts(ctx, d, services);
    }
  },
};

function isWaypoint(d: Deployment): boolean {
  return d.metadata.labels?.['gateway.istio.io/managed'] === 'istio.io-mesh-controller';
}

/**
 * util.DeploymentInMesh: an istio-proxy container, else the pod's `sidecar.istio.io/inject` label,
 * else that annotation, else the Namespace resource's `istio-injection: enabled` (only that label:
 * Istio does not look at `istio.io/rev` here); not in the mesh when none of them says so.
 */
function deploymentInMesh(ctx: AnalysisContext, d: Deployment): boolean {
  const template = d.spec.template;
  if (template.spec.containers.some((c) => c.name === 'istio-proxy' && (c.image ?? '') !== '')) return true;
  const label = template.metadata?.labels?.['sidecar.istio.io/inject'];
  if (label !== undefined) return label === 'true';
  const annotation = template.metadata?.annotations?.['sidecar.istio.io/inject'];
  if (annotation !== undefined) return annotation === 'true';
  const ns = ctx.of('Namespace').find((n) => n.metadata.name === d.metadata.namespace);
  return ns?.metadata.labels?.['istio-injection'] === 'enabled';
}

/** Services with a non-empty selector, in the Deployment's namespace, that select its pods. */
function matchingServices(ctx: AnalysisContext, d: Deployment): Service[] {
  const podLabels = d.spec.template.metadata?.labels ?? {};
  return ctx.of('Service').filter((s) => {
    const selector = s.spec.selector ?? {};
    return s.metadata.namespace === d.metadata.namespace && Object.keys(selector).length > 0 && labelsMatch(selector, podLabels);
  });
}

const fullName = (s: Service): string => `${s.metadata.namespace}/${s.metadata.name}`;
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function reportProtocolConflicts(ctx: AnalysisContext, d: Deployment, services: Service[]): void {
  // port -> protocol -> services
  const ports = new Map<number, Map<string, string[]>>();
  for (const s of services) {
    for (const p of s.spec.ports ?? []) {
      const protocols = ports.get(p.port) ?? new Map<string, string[]>();
      protocols.set(p.protocol, [...(protocols.get(p.protocol) ?? []), fullName(s)]);
      ports.set(p.port, protocols);
    }
  }
  for (const [port, protocols] of [...ports].sort(([a], [b]) => a - b)) {
    if (protocols.size < 2) continue;
    const names = [...protocols.values()].flat().sort(byText);
    ctx.report(d, Messages.DeploymentAssociatedToMultipleServices, [d.metadata.name, port, names], ['metadata', 'name']);
  }
}

function reportTargetPortConflicts(ctx: AnalysisContext, d: Deployment, services: Service[]): void {
  // targetPort (as written: a number or a container port name) -> port -> service; like Istio's
  // map, one Service exposing the same port twice counts once.
  const targets = new Map<string, Map<number, string>>();
  for (const s of services) {
    for (const p of s.spec.ports ?? []) {
      const target = String(p.targetPort ?? p.port);
      const byPort = targets.get(target) ?? new Map<number, string>();
      byPort.set(p.port, fullName(s));
      targets.set(target, byPort);
    }
  }
  for (const [target, byPort] of [...targets].sort(([a], [b]) => byText(a, b))) {
    if (byPort.size < 2) continue;
    // Istio lists a Service once per port (one Service with two ports on one targetPort is
    // reported too); each name is listed once here.
    const names = [...new Set(byPort.values())].sort(byText);
    const ports = [...byPort.keys()].sort((a, b) => a - b);
    ctx.report(d, Messages.DeploymentConflictingPorts, [d.metadata.name, names, target, ports], ['metadata', 'name']);
  }
}
