/**
 * Workload instances derived from Deployments, deterministically: `replicas` pods per Deployment,
 * named `<deployment>-<n>`, with addresses handed out in order from 10.244.0.0/16. The local
 * runtime reports real pods instead; tests and benchmarks use this so a mesh built from files
 * always has the same pods. Sidecar injection follows Istio's webhook rules (ISTIO-SEMANTICS §12).
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { WorkloadInstance } from './types.js';
import { intToIp, ipToInt } from './vip.js';

export interface InstanceOptions {
  /** First pod address; each pod takes the next one. */
  firstIp?: string;
}

const GATEWAY_LABEL_VALUES = new Set(['ingressgateway', 'egressgateway']);

export function instancesFromDeployments(resources: readonly AnyResource[], options: InstanceOptions = {}): WorkloadInstance[] {
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const r of resources) if (r.kind === 'Namespace') namespaceLabels.set(r.metadata.name, r.metadata.labels ?? {});
  const deployments = resources
    .filter((r): r is ResourceOf<'Deployment'> => r.kind === 'Deployment')
    .sort((a, b) => compare(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`));
  let next = ipToInt(options.firstIp ?? '10.244.0.10');
  const out: WorkloadInstance[] = [];
  for (const d of deployments) {
    const template = d.spec.template;
    const labels = { ...(template.metadata?.labels ?? {}) };
    const hasSidecar = isGateway(labels) || injected(labels, template.metadata?.annotations ?? {}, namespaceLabels.get(d.metadata.namespace) ?? {}, template.spec.hostNetwork);
    for (let i = 0; i < d.spec.replicas; i++) {
      out.push({
        name: `${d.metadata.name}-${i}`,
        namespace: d.metadata.namespace,
        labels,
        ip: intToIp(next++),
        serviceAccount: template.spec.serviceAccountName,
        ports: template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol }))),
        hasSidecar,
        workload: d.metadata.name,
      });
    }
  }
  return out;
}

/** Gateway pods run the proxy itself (Istio's gateway charts label them `istio: <kind>gateway`). */
export function isGateway(labels: Readonly<Record<string, string>>): boolean {
  return GATEWAY_LABEL_VALUES.has(labels.istio ?? '');
}

/** Istio's injection decision: hostNetwork never; the pod's label (then annotation); then the namespace. */
function injected(labels: Record<string, string>, annotations: Record<string, string>, nsLabels: Record<string, string>, hostNetwork: boolean): boolean {
  if (hostNetwork) return false;
  const pod = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
  if (pod === 'false') return false;
  if (nsLabels['istio-injection'] !== undefined) return nsLabels['istio-injection'] === 'enabled';
  if (nsLabels['istio.io/rev'] !== undefined) return true;
  return pod === 'true' || labels['istio.io/rev'] !== undefined;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
