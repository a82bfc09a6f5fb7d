import type { Diagnostic } from '../../lib/diagnostic.js';
import { formatPath, type FieldPath } from '../../lib/field-path.js';
import type { AnyResource, KindName, ResourceOf } from '../kinds.js';
import { formatMessage, type MessageType } from '../messages.js';

/** Mesh-wide settings analyzers need; read from an IstioOperator's meshConfig when one is given. */
export interface MeshSettings {
  rootNamespace: string;
  domainSuffix: string;
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
