import type { z } from 'zod';
import type { FieldPath } from '../lib/field-path.js';
import type { Position } from '../lib/source.js';
import type { ObjectMeta } from './schema.js';
import type { MessageType } from './messages.js';

/** Where a resource came from, so any diagnostic about it can name file, line and column. */
export interface SourceRef {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  start: Position;
  locate(path: FieldPath, at?: 'key' | 'value'): Position;
}

/** Metadata after loading: name and namespace are always set ('' namespace for cluster-scoped kinds). */
export type ResourceMeta = ObjectMeta & { name: string; namespace: string };

/** A validated resource: its typed, normalised spec and the raw object as written. */
export interface Resource<K extends string = string, S = unknown> {
  apiVersion: string;
  kind: K;
  metadata: ResourceMeta;
  spec: S;
  raw: Record<string, unknown>;
  source?: SourceRef;
}

/** Collects semantic problems (Istio's validation.go checks) with paths relative to `spec`. */
export interface ValidationContext {
  readonly name: string;
  readonly namespace: string;
  error(path: FieldPath, message: string): void;
  warning(path: FieldPath, message: string): void;
  /** A catalogued analysis message found during validation (Istio reports IST0130/IST0131 this way). */
  report(path: FieldPath, type: MessageType, args: readonly unknown[]): void;
}

/** Everything the loader needs to know about one kind, in every API version users write. */
export interface KindDefinition<K extends string = string, S = unknown> {
  kind: K;
  /** API group: '' for core v1, 'apps', 'networking.istio.io', ... */
  group: string;
  versions: readonly string[];
  namespaced: boolean;
  /** Schema of `spec` (for kinds without a spec, of an empty object). */
  spec: z.ZodType<S, unknown>;
  /** When the document has no `spec`, parse this instead (Istio kinds: `{}`); undefined makes spec required. */
  emptySpec?: unknown;
  /** Other top-level fields accepted besides apiVersion, kind, metadata and spec. */
  topLevel?: z.ZodRawShape;
  /** Where the body lives when it is not `spec` (ServiceAccount keeps its fields at the top). */
  specFromTopLevel?: boolean;
  /** Name format: Kubernetes validates Service and Namespace names more strictly. */
  nameFormat?: 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';
  /** Semantic validation run after the schema passed, as Istio's webhook does. */
  validate?: (spec: S, ctx: ValidationContext) => void;
}

export function defineKind<K extends string, S>(def: KindDefinition<K, S>): KindDefinition<K, S> {
  return def;
}

export function apiVersionOf(def: Pick<KindDefinition, 'group'>, version: string): string {
  return def.group === '' ? version : `${def.group}/${version}`;
}
