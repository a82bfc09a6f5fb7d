/**
 * Workload instances. Where real pods exist (the local runtime writes a Pod object per running
 * pod into its store), the instances are the ready pods, as Kubernetes' endpoints controller
 * lists only ready addresses. Without any Pod, they are derived from Deployments,
 * deterministically: `replicas` pods per Deployment, named `<deployment>-<n>`, with addresses
 * handed out in order from 10.244.0.0/16, so a mesh built from files (tests, benchmarks, goldens)
 * always has the same pods. Sidecar injection follows Istio's webhook rules (ISTIO-SEMANTICS §12).
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { PodStatus } from '../resources/kube/pod.js';
import type { WorkloadInstance } from './types.js';
import { intToIp, ipToInt } from './vip.js';
import { localityFromLabels, withLocality } from './locality.js';

export interface InstanceOptions {
  /** First pod address; each pod takes the next one. */
  firstIp?: string;
}

/** The instances of a resource set: its ready Pods when it has any Pod, else derived from Deployments. */
export function workloadInstances(resources: readonly AnyResource[], options: InstanceOptions = {}): WorkloadInstance[] {
  return resources.some((r) => r.kind === 'Pod') ? instancesFromPods(resources) : instancesFromDeployments(resources, options);
}

/**
 * Running pods with an address (`ready` says whether they serve as endpoints); hasSidecar from an
 * `istio-proxy` container (injected or a gateway), tlsMode from the injector's label.
 */
export function instancesFromPods(resources: readonly AnyResource[]): WorkloadInstance[] {
  const pods = resources
    .filter((r): r is ResourceOf<'Pod'> => r.kind === 'Pod')
    .sort((a, b) => compare(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`));
  const out: WorkloadInstance[] = [];
  for (const p of pods) {
    const status = (p.raw.status ?? {}) as PodStatus;
    if (!status.podIP || status.phase !== 'Running') continue;
    const ready = !p.metadata.deletionTimestamp && (status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
    const owner = p.metadata.ownerReferences?.find((o) => o.controller === true) ?? p.metadata.ownerReferences?.[0];
    out.push({
      name: p.metadata.name,
      namespace: p.metadata.namespace,
      labels: { ...(p.metadata.labels ?? {}) },
      ip: status.podIP,
      serviceAccount: p.spec.serviceAccountName,
      ports: p.spec.containers.flatMap((c) => (c.ports ?? []).map((port) => ({ ...(port.name ? { name: port.name } : {}), containerPort: port.containerPort, protocol: port.protocol }))),
      hasSidecar: p.spec.containers.some((c) => c.name === 'istio-proxy'),
      tlsMode: p.metadata.labels?.['security.istio.io/tlsMode'] === 'istio' ? 'istio' : 'disabled',
      workload: workloadOf(owner) || p.metadata.name,
      ready,
      ...withLocality(localityFromLabels(p.metadata.labels)),
    });
  }
  return out;
}

/** The Deployment behind a pod's ReplicaSet owner (`reviews-v1-5d9f8b7c6d` -> `reviews-v1`). */
function workloadOf(owner: Record<string, unknown> | undefined): string {
  const name = typeof owner?.name === 'string' ? owner.name : '';
  return owner?.kind === 'ReplicaSet' ? name.replace(/-[a-z0-9]+$/, '') : name;
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
    const sidecar = injected(labels, template.metadata?.annotations ?? {}, namespaceLabels.get(d.metadata.namespace) ?? {}, template.spec.hostNetwork);
    const hasSidecar = isGateway(labels) || sidecar;
    // As the injector labels pods (security.istio.io/tlsMode: istio): injected sidecars, not gateways.
    const tlsMode = sidecar && !isGateway(labels) ? 'istio' as const : 'disabled' as const;
    for (let i = 0; i < d.spec.replicas; i++) {
      out.push({
        name: `${d.metadata.name}-${i}`,
        namespace: d.metadata.namespace,
        labels,
        ip: intToIp(next++),
        serviceAccount: template.spec.serviceAccountName,
        ports: template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort, protocol: p.protocol }))),
        hasSidecar,
        tlsMode,
        workload: d.metadata.name,
        ready: true,
        ...withLocality(localityFromLabels(labels)),
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
export function injected(labels: Record<string, string>, annotations: Record<string, string>, nsLabels: Record<string, string>, hostNetwork: boolean): boolean {
  return injectionRevision(labels, annotations, nsLabels, hostNetwork) !== undefined;
}

/**
 * Which control plane revision injects a pod ('' for the default revision), or undefined when
 * the pod is not injected. The namespace's `istio-injection` wins over its `istio.io/rev`; without
 * either, the pod opts in with `sidecar.istio.io/inject: "true"` or its own `istio.io/rev` label.
 */
export function injectionRevision(labels: Readonly<Record<string, string>>, annotations: Readonly<Record<string, string>>, nsLabels: Readonly<Record<string, string>>, hostNetwork: boolean): string | undefined {
  if (hostNetwork) return undefined;
  const pod = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
  if (pod === 'false') return undefined;
  if (nsLabels['istio-injection'] !== undefined) return nsLabels['istio-injection'] === 'enabled' ? '' : undefined;
  if (nsLabels['istio.io/rev'] !== undefined) return revisionName(nsLabels['istio.io/rev']);
  if (labels['istio.io/rev'] !== undefined) return revisionName(labels['istio.io/rev']);
  return pod === 'true' ? '' : undefined;
}

/** `default` names the default revision, as Istio's default tag does. */
function revisionName(rev: string): string {
  return rev === 'default' ? '' : rev;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
