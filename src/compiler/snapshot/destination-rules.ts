/**
 * DestinationRules indexed by namespace and host, merged as Istio merges them
 * (pilot/pkg/model/push_context.go, destination_rule.go): rules for the same host in one namespace
 * become one, subsets appended (a repeated name keeps the first) and the first top-level policy
 * winning. Rules with a workloadSelector stay separate and apply only to the workloads they select.
 * Lookup for a client in namespace C and a service in namespace S follows Istio's order
 * (ISTIO-SEMANTICS §3): C's rules, then S's rules exported to C, then the root namespace's.
 */
import type { AnyResource, ResourceOf } from '../../resources/index.js';
import { resolveHost, hostCovers } from '../../resources/index.js';
import type { DestinationRuleSpec } from '../../resources/istio/destination-rule.js';
import { parseExportTo, isVisibleTo, labelsMatch, type MeshOptions, type Visibility } from '../../registry/index.js';
import type { ConfigSource } from '../../proxy-config/index.js';
import { compareConfigs, sourceOf } from './order.js';

type DestinationRule = ResourceOf<'DestinationRule'>;

export interface MergedDestinationRule {
  host: string;
  namespace: string;
  spec: DestinationRuleSpec;
  exportTo: Visibility;
  selector?: Record<string, string>;
  /** The first rule (the one that owns the top-level policy), for `source`. */
  source: ConfigSource;
}

export interface DestinationRuleIndex {
  lookup(client: { namespace: string; labels: Record<string, string> }, hostname: string, serviceNamespace: string): MergedDestinationRule | undefined;
  /** The workloadSelectors of a namespace's rules: the only way a client's labels change a lookup. */
  selectors(namespace: string): readonly Record<string, string>[];
}

export function indexDestinationRules(resources: readonly AnyResource[], mesh: MeshOptions): DestinationRuleIndex {
  const byNamespace = new Map<string, MergedDestinationRule[]>();
  const rules = resources.filter((r): r is DestinationRule => r.kind === 'DestinationRule').sort(compareConfigs);
  for (const dr of rules) {
    const ns = dr.metadata.namespace;
    const host = resolveHost(dr.spec.host, ns, mesh.domainSuffix);
    const list = byNamespace.get(ns) ?? [];
    byNamespace.set(ns, list);
    const selector = dr.spec.workloadSelector?.matchLabels;
    const exportTo = parseExportTo(dr.spec.exportTo, ns, mesh.defaultDestinationRuleExportTo);
    const existing = selector ? undefined : list.find((m) => m.host === host && !m.selector);
    if (existing) {
      merge(existing, dr, exportTo);
      continue;
    }
    list.push({ host, namespace: ns, spec: dr.spec, exportTo, ...(selector ? { selector } : {}), source: sourceOf(dr) });
  }

  const inNamespace = (ns: string, client: { namespace: string; labels: Record<string, string> }, hostname: string, local: boolean) => {
    const candidates = (byNamespace.get(ns) ?? []).filter((m) =>
      hostCovers(m.host, hostname)
      && (local || isVisibleTo(m.exportTo, client.namespace))
      && (!m.selector || (ns === client.namespace && labelsMatch(m.selector, client.labels))));
    return mostSpecific(candidates, hostname);
  };

  return {
    selectors: (namespace) => (byNamespace.get(namespace) ?? []).flatMap((m) => (m.selector ? [m.selector] : [])),
    lookup(client, hostname, serviceNamespace) {
      return inNamespace(client.namespace, client, hostname, true)
        ?? (serviceNamespace !== client.namespace ? inNamespace(serviceNamespace, client, hostname, false) : undefined)
        ?? (mesh.rootNamespace !== client.namespace && mesh.rootNamespace !== serviceNamespace ? inNamespace(mesh.rootNamespace, client, hostname, false) : undefined);
    },
  };
}

/** Exact host first, then the longest wildcard; a rule selecting this workload beats one that selects none. */
function mostSpecific(candidates: MergedDestinationRule[], hostname: string): MergedDestinationRule | undefined {
  let best: MergedDestinationRule | undefined;
  const rank = (m: MergedDestinationRule) => (m.host === hostname ? 1_000_000 : m.host.length) * 2 + (m.selector ? 1 : 0);
  for (const m of candidates) if (!best || rank(m) > rank(best)) best = m;
  return best;
}

function merge(into: MergedDestinationRule, dr: DestinationRule, exportTo: Visibility): void {
  const subsets = [...(into.spec.subsets ?? [])];
  for (const s of dr.spec.subsets ?? []) if (!subsets.some((t) => t.name === s.name)) subsets.push(s);
  into.spec = { ...into.spec, subsets, trafficPolicy: into.spec.trafficPolicy ?? dr.spec.trafficPolicy };
  if (!into.exportTo.public) {
    into.exportTo = exportTo.public ? exportTo : { public: false, namespaces: new Set([...into.exportTo.namespaces, ...exportTo.namespaces]) };
  }
}
