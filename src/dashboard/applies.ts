/**
 * Which applied resources concern one node of the service graph, for its details panel: for a
 * service host, the VirtualServices that name it (`hosts`) and the DestinationRules for it
 * (`host`); for a workload, the policies whose selector matches its labels (or that have none)
 * in its namespace or the root namespace: AuthorizationPolicy, PeerAuthentication,
 * RequestAuthentication, Sidecar, Telemetry. Visibility (exportTo) is not weighed: this lists
 * candidates by name and selector, as a reader of the YAML would, not what a proxy was compiled.
 */
import { hostCovers, resolveHost, type AnyResource } from '../resources/index.js';

export interface AppliesTo {
  /** `reviews.default.svc.cluster.local`, for a service or external node. */
  host?: string;
  /** For a workload: its namespace and pod labels (app, version, ...). */
  workload?: { namespace: string; labels: Record<string, string> };
  rootNamespace?: string;
}

export interface AppliedRef {
  kind: string;
  namespace: string;
  name: string;
  /** How it applies: `hosts`, `host`, `selector`, `namespace-wide`, `mesh-wide`. */
  why: string;
}

const SELECTED_KINDS = new Set(['AuthorizationPolicy', 'PeerAuthentication', 'RequestAuthentication', 'Sidecar', 'Telemetry']);

export function resourcesApplyingTo(resources: readonly AnyResource[], target: AppliesTo): AppliedRef[] {
  const out: AppliedRef[] = [];
  const root = target.rootNamespace ?? 'istio-system';
  const ref = (r: AnyResource, why: string) => out.push({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, why });
  for (const r of resources) {
    const spec = r.raw.spec as Record<string, unknown> | undefined;
    if (target.host && r.kind === 'VirtualService') {
      const hosts = (spec?.hosts as string[] | undefined) ?? [];
      if (hosts.some((h) => hostCovers(resolveHost(h, r.metadata.namespace), target.host ?? ''))) ref(r, 'hosts');
    } else if (target.host && r.kind === 'DestinationRule') {
      const host = spec?.host;
      if (typeof host === 'string' && hostCovers(resolveHost(host, r.metadata.namespace), target.host)) ref(r, 'host');
    } else if (target.workload && SELECTED_KINDS.has(r.kind)) {
      const ns = r.metadata.namespace;
      if (ns !== target.workload.namespace && ns !== root) continue;
      const selector = (r.kind === 'Sidecar' ? (spec?.workloadSelector as { labels?: Record<string, string> } | undefined)?.labels : (spec?.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels) ?? {};
      const keys = Object.entries(selector);
      if (keys.length === 0) ref(r, ns === root && ns !== target.workload.namespace ? 'mesh-wide' : 'namespace-wide');
      else if (ns === target.workload.namespace && keys.every(([k, v]) => target.workload?.labels[k] === v)) ref(r, 'selector');
    }
  }
  return out.sort((a, b) => (a.kind + a.namespace + a.name < b.kind + b.namespace + b.name ? -1 : 1));
}

/** A workload's pod labels, from any of its Pods in the store (the graph knows its name, not its labels). */
export function workloadLabels(resources: readonly AnyResource[], namespace: string, workload: string): Record<string, string> | undefined {
  for (const r of resources) {
    if (r.kind === 'Deployment' && r.metadata.namespace === namespace && r.metadata.name === workload) {
      return ((r.raw.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels) ?? {};
    }
  }
  return undefined;
}
