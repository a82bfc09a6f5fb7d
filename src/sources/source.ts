/**
 * A config source feeds the control plane the resources the mesh is configured with: YAML files
 * and directories today, the local runtime's store and a Kubernetes watch later. Every source
 * keeps the same promise: a change is taken whole or not at all. A change that does not validate
 * is reported with its diagnostics and the last good set stays current, so a typo in one file
 * never takes routes away from running proxies.
 */
import type { AnyResource } from '../resources/index.js';
import type { Diagnostic } from '../lib/diagnostic.js';

export type SourceEvent =
  /** A new resource set is current. `warnings` are non-blocking diagnostics of that set. */
  | { type: 'accepted'; resources: readonly AnyResource[]; warnings: readonly Diagnostic[] }
  /** A change was refused; `current()` is unchanged. `errors` say why, with file, line and field path. */
  | { type: 'rejected'; errors: readonly Diagnostic[] };

export interface ConfigSource {
  /** For logs and debug pages: `files:/etc/weft/config`, later `runtime`, `kubernetes`. */
  readonly name: string;
  /**
   * Loads the initial set (reported through `onChange` like any later change, before the
   * returned promise resolves) and starts watching.
   */
  start(onChange: (event: SourceEvent) => void): Promise<void>;
  stop(): void;
  /** The last accepted set; empty until one was accepted. */
  current(): readonly AnyResource[];
}
