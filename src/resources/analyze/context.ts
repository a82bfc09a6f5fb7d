import type { Diagnostic } from '../../lib/diagnostic.js';
import { formatPath, type FieldPath } from '../../lib/field-path.js';
import type { AnyResource, KindName, ResourceOf } from '../kinds.js';
import { formatMessage, type MessageType } from '../messages.js';
import type { MeshConfig } from '../install/mesh-config.js';

/** Mesh-wide settings analyzers need; read from an IstioOperator's meshConfig when one is given. */
export interface MeshSettings {
  rootNamespace: string;
  domainSuffix: string;
}

/**
 * Istio's inject.IgnoredNamespaces: `istioctl analyze` drops every resource in these namespaces
 * (and Namespace resources of these names) when it reads files, so no analyzer sees them.
 */
export const IGNORED_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

export function isIgnoredByAnalysis(r: AnyResource): boolean {
  return IGNORED_NAMESPACES.has(r.kind === 'Namespace' ? r.metadata.name : r.metadata.namespace);
}

export const DEFAULT_MESH: MeshSettings = { rootNamespace: 'istio-system', domainSuffix: 'cluster.local' };

/** One cross-resource check, in the spirit of Istio's analyzers (named like them). */
export interface Analyzer {
  /** Istio's analyzer name where one exists, e.g. `virtualservice.DestinationHostAnalyzer`. */
  name: string;
  description: string;
  analyze(ctx: AnalysisContext): void;
}

/** The read-only set of resources under analysis, indexed by kind, and the place reports go. */
export class AnalysisContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly #byKind = new Map<string, AnyResource[]>();

  constructor(
    readonly resources: readonly AnyResource[],
    readonly mesh: MeshSettings = DEFAULT_MESH,
  ) {
    for (const r of resources) {
      const list = this.#byKind.get(r.kind) ?? [];
      list.push(r);
      this.#byKind.set(r.kind, list);
    }
  }

  of<K extends KindName>(kind: K): ResourceOf<K>[] {
    return (this.#byKind.get(kind) ?? []) as ResourceOf<K>[];
  }

  /**
   * The meshConfig of the first IstioOperator among the inputs that sets one; spec.meshConfig
   * wins over values.meshConfig field by field, as the installer merges them.
   */
  operatorMeshConfig(): MeshConfig | undefined {
    for (const op of this.of('IstioOperator')) {
      const fromSpec = op.spec.meshConfig ?? undefined;
      const fromValues = op.spec.values?.meshConfig ?? undefined;
      if (fromSpec || fromValues) return { ...(fromValues ?? {}), ...(fromSpec ?? {}) };
    }
    return undefined;
  }

  get<K extends KindName>(kind: K, namespace: string, name: string): ResourceOf<K> | undefined {
    return this.of(kind).find((r) => r.metadata.name === name && r.metadata.namespace === namespace);
  }

  /** Reports a catalogued message about `resource`, located at `path` in its file. */
  report(resource: AnyResource, type: MessageType, args: readonly unknown[], path: FieldPath = []): void {
    const pos = resource.source?.locate(path);
    this.diagnostics.push({
      code: type.code,
      level: type.level,
      message: formatMessage(type, args),
      origin: { kind: resource.kind, namespace: resource.metadata.namespace || undefined, name: resource.metadata.name },
      location: resource.source && pos ? { file: resource.source.file, line: pos.line, column: pos.column, path: formatPath(path) } : undefined,
    });
  }
}
