/**
 * Istio's destinationrule.SubsetSelectPodAnalyzer (PodNotSelectedAnalyzer in
 * pkg/config/analysis/analyzers/destinationrule/subset.go): a DestinationRule's host must be a
 * service visible from its namespace (IST0174), and each subset must select some workload
 * (IST0173).
 *
 * As in Istio, hosts are looked up among ServiceEntry hosts (by exportTo) and Kubernetes Services
 * (by their networking.istio.io/exportTo annotation), exactly or through a ServiceEntry's wildcard
 * host. A subset selects the merge of the service's selector and the subset's labels, where a
 * Kubernetes Service counts as having no selector (Istio converts it to a ServiceEntry without
 * one), and it may match a workload in any namespace.
 *
 * Istio matches Pods, with labels augmented from their Node's topology labels; files have neither,
 * so the workloads of meshIndex stand in for Pods. A pod template's node is unknown, so a subset
 * label for a node topology key (region, zone, subzone, hostname) with a non-empty value is taken
 * as satisfiable unless the template sets it; an empty value never matches, as in Istio.
 * WorkloadEntries take region/zone/subzone from their locality, as Istio's registry does.
 *
 * One deliberate departure: IST0173 is reported only for a subset some VirtualService routes or
 * mirrors to, since a subset no traffic is sent to cannot cause the 503 the message warns of.
 * Istio reports every subset, which makes Istio's own bookinfo destination-rule-all.yaml fail
 * analysis (its v2-mysql subsets select workloads bookinfo does not deploy; istio.io documents
 * those errors as expected and safe to ignore).
 */
import { Messages } from '../messages.js';
import type { AnalysisContext, Analyzer } from './context.js';
import { meshIndex, type MeshWorkload } from './mesh-index.js';

interface HostEntry {
  scope: string;
  host: string;
  selector?: Record<string, string>;
}

const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';
const SUBZONE = 'topology.istio.io/subzone';
const HOSTNAME = 'kubernetes.io/hostname';
const NODE_KEYS = new Set([REGION, ZONE, SUBZONE, HOSTNAME]);

export const destinationRuleHostAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'DestinationRule hosts exist (IST0174) and subsets select workloads (IST0173)',
  analyze(ctx) {
    const entries = hostEntries(ctx);
    const workloads = meshIndex(ctx).workloads;
    for (const dr of ctx.of('DestinationRule')) {
      const ns = dr.metadata.namespace;
      const found = lookup(entries, ns, dr.spec.exportTo ?? [], dr.spec.host, ctx.mesh.domainSuffix);
      if (!found) {
        ctx.report(dr, Messages.UnknownDestinationRuleHost, [dr.spec.host], ['spec', 'host']);
        continue;
      }
      dr.spec.subsets?.forEach((subset, i) => {
        const selector = { ...(found.selector ?? {}), ...(subset.labels ?? {}) };
        if (workloads.some((w) => selects(selector, w))) return;
        ctx.report(dr, Messages.DestinationRuleSubsetNotSelectPods, [subset.name], ['spec', 'subsets', i, 'name']);
      });
    }
  },
};

/** Istio's ConvertHostToFQDN; compared in lower case, as DNS names are. */
function toFqdn(host: string, namespace: string, suffix: string): string {
  const h = host.toLowerCase();
  return h.startsWith('*') || h.includes('.') ? h : `${h}.${namespace}.svc.${suffix}`;
}

/** Istio's InitServiceEntryHostMap, as a list: ServiceEntry hosts first, then Services (which win on a tie). */
function hostEntries(ctx: AnalysisContext): HostEntry[] {
  const suffix = ctx.mesh.domainSuffix;
  const out: HostEntry[] = [];
  for (const se of ctx.of('ServiceEntry')) {
    const ns = se.metadata.namespace;
    const exportTo = se.spec.exportTo ?? [];
    const scopes = exportTo.length === 0 || exportTo.includes('*') ? ['*'] : exportTo.map((e) => (e === '.' ? ns : e));
    for (const h of se.spec.hosts) {
      for (const scope of scopes) out.push({ scope, host: toFqdn(h, ns, suffix), selector: se.spec.workloadSelector?.labels });
    }
  }
  for (const svc of ctx.of('Service')) {
    const ns = svc.metadata.namespace;
    const anno = svc.metadata.annotations?.['networking.istio.io/exportTo'] ?? '';
    const scopes = anno === '' ? ['*'] : anno.split(',').map((s) => (s.trim() === '.' ? ns : s.trim()));
    for (const scope of scopes) out.push({ scope, host: toFqdn(svc.metadata.name, ns, suffix) });
  }
  // The gateway Services an install would create are on the cluster Istio would look at.
  for (const s of meshIndex(ctx).services) if (s.implied) out.push({ scope: '*', host: s.host });
  return out;
}

/** Istio's GetDestinationHost: exported to all, then to the rule's namespaces, then wildcard hosts. */
function lookup(entries: readonly HostEntry[], ns: string, exportTo: readonly string[], host: string, suffix: string): HostEntry | undefined {
  const fqdn = toFqdn(host, ns, suffix);
  const find = (scope: string): HostEntry | undefined => entries.findLast((e) => e.scope === scope && e.host === fqdn);
  const all = find('*');
  if (all) return all;
  const scopes = exportTo.length === 0 ? [ns] : exportTo.map((e) => (e === '.' ? ns : e));
  for (const scope of scopes) {
    const hit = find(scope);
    if (hit) return hit;
  }
  const bare = host.toLowerCase().replace(/^\*/, '');
  return entries.find((e) => e.host.startsWith('*') && (e.scope === '*' || e.scope === ns) && bare.endsWith(e.host.slice(1)));
}

function selects(selector: Readonly<Record<string, string>>, w: MeshWorkload): boolean {
  const labels = augmentedLabels(w);
  const nodeUnknown = w.kind === 'Deployment';
  return Object.entries(selector).every(([key, value]) => {
    const actual = labels[key];
    if (actual !== undefined) return actual === value;
    return nodeUnknown && NODE_KEYS.has(key) && value !== '';
  });
}

/** Istio's AugmentLabels with what files tell: a template's nodeName, a WorkloadEntry's locality. */
function augmentedLabels(w: MeshWorkload): Record<string, string> {
  const out = { ...w.labels };
  const r = w.resource;
  if (r?.kind === 'Deployment' && r.spec.template.spec.nodeName) out[HOSTNAME] = r.spec.template.spec.nodeName;
  if (r?.kind === 'WorkloadEntry' && r.spec.locality) {
    const [region, zone, subzone] = r.spec.locality.split('/');
    if (region) out[REGION] = region;
    if (zone) out[ZONE] = zone;
    if (subzone) out[SUBZONE] = subzone;
  }
  return out;
}
