/**
 * Istio's sidecar.SelectorAnalyzer (pkg/config/analysis/analyzers/sidecar/selector.go): a Sidecar
 * with a workloadSelector must select a workload in its namespace (IST0101), no workload may be
 * selected by two Sidecars (IST0110), and a namespace may hold only one Sidecar without a selector
 * (IST0111). Workloads in ambient mode have no sidecar, so Sidecars for them are reported as
 * ineffective (IST0167) instead.
 *
 * Istio matches Pods; files have no Pods, so the workloads of meshIndex stand in for them
 * (Deployment pod templates, WorkloadEntries and the gateways an install creates), and the
 * workload's name (e.g. the Deployment's) is the pod name in messages.
 */
import type { ResourceOf } from '../kinds.js';
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';
import { formatLabels, labelsMatch, meshIndex, type MeshWorkload } from './mesh-index.js';

type Sidecar = ResourceOf<'Sidecar'>;

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description: 'Sidecar selectors match workloads (IST0101) without conflicts (IST0110, IST0111)',
  analyze(ctx) {
    const index = meshIndex(ctx);
    const byWorkload = new Map<MeshWorkload, Sidecar[]>();
    const unselected = new Map<string, Sidecar[]>();

    for (const sc of ctx.of('Sidecar')) {
      const ns = sc.metadata.namespace;
      const selector = sc.spec.workloadSelector?.labels ?? {};
      if (Object.keys(selector).length === 0) {
        unselected.set(ns, [...(unselected.get(ns) ?? []), sc]);
        continue;
      }
      const selected = index.workloads.filter((w) => w.namespace === ns && labelsMatch(selector, w.labels));
      for (const w of selected) byWorkload.set(w, [...(byWorkload.get(w) ?? []), sc]);
      if (selected.length === 0) {
        const text = formatLabels(selector);
        const firstKey = text.split('=')[0] ?? '';
        ctx.report(sc, Messages.ReferencedResourceNotFound, ['selector', text], ['spec', 'workloadSelector', 'labels', firstKey]);
      }
    }

    // A Sidecar is reported as ineffective once, however many ambient workloads it selects.
    const ineffective = new Set<Sidecar>();
    const reportIneffective = (sc: Sidecar, why: string): void => {
      if (ineffective.has(sc)) return;
      ineffective.add(sc);
      ctx.report(sc, Messages.IneffectivePolicy, [why], ['metadata', 'name']);
    };

    for (const [workload, sidecars] of byWorkload) {
      const ambient = workload.annotations['ambient.istio.io/redirection'] === 'enabled';
      if (sidecars.length === 1 && !ambient) continue;
      const names = sidecarNames(sidecars);
      for (const sc of sidecars) {
        if (ambient) {
          reportIneffective(sc, 'selected workload is in ambient mode, the policy has no impact');
          continue;
        }
        ctx.report(sc, Messages.ConflictingSidecarWorkloadSelectors, [names, workload.namespace, workload.name], ['metadata', 'name']);
      }
    }

    for (const [ns, sidecars] of unselected) {
      if (namespaceInAmbientMode(index.namespaces.get(ns))) {
        for (const sc of sidecars) reportIneffective(sc, 'namespace is in ambient mode, the policy has no impact');
        continue;
      }
      if (sidecars.length < 2) continue;
      const names = sidecarNames(sidecars);
      for (const sc of sidecars) ctx.report(sc, Messages.MultipleSidecarsWithoutWorkloadSelectors, [names, ns], ['metadata', 'name']);
    }
  },
};

function sidecarNames(sidecars: readonly Sidecar[]): string[] {
  return sidecars.map((s) => s.metadata.name).sort();
}

/** Istio's NamespaceInAmbientMode: an injection label wins over the ambient dataplane mode. */
function namespaceInAmbientMode(labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!labels) return false;
  if (labels['istio-injection'] === 'enabled') return false;
  if (labels['istio.io/rev']) return false;
  return labels['istio.io/dataplane-mode'] === 'ambient';
}
