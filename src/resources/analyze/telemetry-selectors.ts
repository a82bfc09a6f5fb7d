/**
 * Istio's Telemetry analyzers (pkg/config/analysis/analyzers/telemetry/), run as one:
 * - SelectorAnalyzer: a Telemetry with selector labels must select a workload in its namespace
 *   (IST0101), and no workload may be selected by two Telemetries (IST0159);
 * - DefaultSelectorAnalyzer: a namespace may hold only one Telemetry without a selector (IST0160);
 * - ProviderAnalyzer: when meshConfig.defaultProviders names no access logging provider, an
 *   enabled accessLogging entry without providers is ignored (IST0157);
 * - LightstepAnalyzer: tracing through a meshConfig extension provider of the deprecated
 *   Lightstep kind (IST0002).
 * The meshConfig is the IstioOperator's among the inputs, or Istio's default (which has no
 * default providers and no Lightstep provider). Istio matches Pods; the workloads of meshIndex
 * stand in for them, and a workload's name (e.g. its Deployment's) is the pod name in messages.
 */
import type { ResourceOf } from '../kinds.js';
import { Messages } from '../messages.js';
import type { AnalysisContext, Analyzer } from './context.js';
import { formatLabels, labelsMatch, meshIndex, type MeshWorkload } from './mesh-index.js';

type Telemetry = ResourceOf<'Telemetry'>;

export const telemetryAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description: 'Telemetry selectors (IST0159, IST0160) and providers (IST0157)',
  analyze(ctx) {
    checkSelectors(ctx);
    checkDefaultSelectors(ctx);
    checkProviders(ctx);
  },
};

function names(list: readonly Telemetry[]): string[] {
  return list.map((t) => t.metadata.name).sort();
}

function checkSelectors(ctx: AnalysisContext): void {
  const workloads = meshIndex(ctx).workloads;
  const byWorkload = new Map<MeshWorkload, Telemetry[]>();
  for (const t of ctx.of('Telemetry')) {
    const labels = t.spec.selector?.matchLabels ?? {};
    if (Object.keys(labels).length === 0) continue;
    const selected = workloads.filter((w) => w.namespace === t.metadata.namespace && labelsMatch(labels, w.labels));
    for (const w of selected) byWorkload.set(w, [...(byWorkload.get(w) ?? []), t]);
    if (selected.length > 0) continue;
    const text = formatLabels(labels);
    ctx.report(t, Messages.ReferencedResourceNotFound, ['selector', text], ['spec', 'selector', 'matchLabels', text.split('=')[0] ?? '']);
  }
  for (const [w, list] of byWorkload) {
    if (list.length < 2) continue;
    for (const t of list) ctx.report(t, Messages.ConflictingTelemetryWorkloadSelectors, [names(list), w.namespace, w.name], ['metadata', 'name']);
  }
}

function checkDefaultSelectors(ctx: AnalysisContext): void {
  const byNamespace = new Map<string, Telemetry[]>();
  for (const t of ctx.of('Telemetry')) {
    // Istio counts only an absent selector here, not `selector: {}`.
    if (t.spec.selector) continue;
    byNamespace.set(t.metadata.namespace, [...(byNamespace.get(t.metadata.namespace) ?? []), t]);
  }
  for (const [ns, list] of byNamespace) {
    if (list.length < 2) continue;
    for (const t of list) ctx.report(t, Messages.MultipleTelemetriesWithoutWorkloadSelectors, [names(list), ns], ['metadata', 'name']);
  }
}

function checkProviders(ctx: AnalysisContext): void {
  const mesh = ctx.operatorMeshConfig();
  const defaultLogging = mesh?.defaultProviders?.accessLogging ?? [];
  const lightstep = new Set((mesh?.extensionProviders ?? []).filter((p) => p.lightstep !== undefined).map((p) => p.name));
  for (const t of ctx.of('Telemetry')) {
    if (defaultLogging.length === 0) {
      t.spec.accessLogging?.forEach((entry, i) => {
        if (entry.disabled === true || (entry.providers ?? []).length > 0) return;
        ctx.report(t, Messages.InvalidTelemetryProvider, [t.metadata.name, t.metadata.namespace], ['spec', 'accessLogging', i]);
      });
    }
    t.spec.tracing?.forEach((tracing, i) => {
      tracing.providers?.forEach((p, j) => {
        if (!lightstep.has(p.name)) return;
        const detail = `The Lightstep provider ${p.name} is deprecated, please migrate to OpenTelemetry provider.`;
        ctx.report(t, Messages.Deprecated, [detail], ['spec', 'tracing', i, 'providers', j, 'name']);
      });
    });
  }
}
