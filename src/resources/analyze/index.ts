import type { Diagnostic } from '../../lib/diagnostic.js';
import { compareDiagnostics } from '../../lib/diagnostic.js';
import type { AnyResource } from '../kinds.js';
import { AnalysisContext, DEFAULT_MESH, type Analyzer, type MeshSettings } from './context.js';

/** Every analyzer, in the order they run. Adding one means adding it here. */
export const ANALYZERS: readonly Analyzer[] = [];

export interface AnalyzeOptions {
  mesh?: Partial<MeshSettings>;
  analyzers?: readonly Analyzer[];
}

/** Runs the cross-resource analyzers over already validated resources. */
export function analyzeResources(resources: readonly AnyResource[], options: AnalyzeOptions = {}): Diagnostic[] {
  const mesh = { ...DEFAULT_MESH, ...meshFromOperators(resources), ...options.mesh };
  const ctx = new AnalysisContext(resources, mesh);
  for (const analyzer of options.analyzers ?? ANALYZERS) {
    try {
      analyzer.analyze(ctx);
    } catch (err) {
      // An analyzer bug must not hide the other analyzers' findings: report it as Istio does.
      ctx.diagnostics.push({ code: 'IST0001', level: 'Error', message: `Internal error: analyzer ${analyzer.name} failed: ${(err as Error).message}` });
    }
  }
  return ctx.diagnostics.sort(compareDiagnostics);
}

function meshFromOperators(resources: readonly AnyResource[]): Partial<MeshSettings> {
  for (const r of resources) {
    if (r.kind !== 'IstioOperator') continue;
    const meshConfig = (r.raw.spec as { meshConfig?: { rootNamespace?: unknown; trustDomain?: unknown } } | undefined)?.meshConfig;
    if (typeof meshConfig?.rootNamespace === 'string') return { rootNamespace: meshConfig.rootNamespace };
  }
  return {};
}

export { AnalysisContext, type Analyzer, type MeshSettings };
