/**
 * `weft apply` and `weft delete` against the store, all-or-nothing: the whole set is loaded and
 * validated as the control plane would load it, every namespace it uses must exist (or be in the
 * set, as with kubectl), and only then is anything written. Results read like kubectl's:
 * `deployment.apps/reviews-v1 created|configured|unchanged`.
 */
import { randomUUID } from 'node:crypto';
import { loadResources, type AnyResource, type SourceText } from '../resources/index.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import { resourceKey, type Store } from './store.js';

export interface ApplyLine {
  /** `deployment.apps/reviews-v1` */
  ref: string;
  namespace: string;
  action: 'created' | 'configured' | 'unchanged' | 'deleted' | 'not found';
}

export type ApplyOutcome = { ok: true; results: ApplyLine[] } | { ok: false; diagnostics: Diagnostic[] };

/** Fields the runtime sets; a re-apply of the same manifest must not count them as a change. */
const SERVER_META = ['uid', 'creationTimestamp', 'generation', 'resourceVersion', 'managedFields', 'selfLink'];

export function typeRef(r: { apiVersion: string; kind: string; metadata: { name: string } }): string {
  const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '';
  return `${r.kind.toLowerCase()}${group ? `.${group}` : ''}/${r.metadata.name}`;
}

function validate(store: Store, sources: readonly SourceText[], forDelete: boolean): { resources: AnyResource[]; diagnostics: Diagnostic[] } {
  const loaded = loadResources(sources, { duplicates: 'error' });
  const diagnostics = loaded.diagnostics.filter((d) => d.level === 'Error');
  const namespaces = new Set(store.all().filter((r) => r.kind === 'Namespace').map((r) => r.metadata.name));
  for (const r of loaded.resources) if (r.kind === 'Namespace') namespaces.add(r.metadata.name);
  for (const r of loaded.resources) {
    const where = (path: (string | number)[]) => {
      const pos = r.source?.locate(path) ?? { line: 0, column: 0 };
      return { file: r.source?.file ?? '', line: pos.line, column: pos.column, path: path.join('.') };
    };
    const origin = { kind: r.kind, name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}) };
    if (r.kind === 'Pod' && !forDelete) {
      diagnostics.push({ code: 'WFT0008', level: 'Error', origin, location: where(['kind']), message: 'the local runtime creates pods from Deployments; apply a Deployment instead' });
    } else if (r.metadata.namespace !== '' && !namespaces.has(r.metadata.namespace) && !forDelete) {
      diagnostics.push({ code: 'WFT0008', level: 'Error', origin, location: where(['metadata', 'namespace']), message: `namespaces "${r.metadata.namespace}" not found: create the Namespace first or apply it with this set` });
    }
  }
  return { resources: loaded.resources, diagnostics };
}

export function applySources(store: Store, sources: readonly SourceText[], now = new Date()): ApplyOutcome {
  const { resources, diagnostics } = validate(store, sources, false);
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  // Namespaces first, so a crash part-way never leaves a resource in a namespace that is not stored.
  const ordered = [...resources].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
  const results: ApplyLine[] = [];
  for (const r of ordered) {
    const existing = store.get(resourceKey(r));
    const object = desiredObject(r);
    if (existing && same(existing.raw, object)) {
      results.push({ ref: typeRef(r), namespace: r.metadata.namespace, action: 'unchanged' });
      continue;
    }
    const oldMeta = (existing?.raw.metadata ?? {}) as Record<string, unknown>;
    const meta = object.metadata as Record<string, unknown>;
    meta.uid = oldMeta.uid ?? randomUUID();
    meta.creationTimestamp = oldMeta.creationTimestamp ?? now.toISOString();
    const specChanged = !existing || JSON.stringify(existing.raw.spec) !== JSON.stringify(object.spec);
    meta.generation = (typeof oldMeta.generation === 'number' ? oldMeta.generation : 0) + (specChanged ? 1 : 0) || 1;
    store.put(object);
    results.push({ ref: typeRef(r), namespace: r.metadata.namespace, action: existing ? 'configured' : 'created' });
  }
  return { ok: true, results };
}

export function deleteSources(store: Store, sources: readonly SourceText[]): ApplyOutcome {
  const { resources, diagnostics } = validate(store, sources, true);
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  const results: ApplyLine[] = [];
  // Namespaces last: deleting one takes its contents along, which would read as "not found".
  const ordered = [...resources].sort((a, b) => Number(a.kind === 'Namespace') - Number(b.kind === 'Namespace'));
  for (const r of ordered) {
    const deleted = store.delete(resourceKey(r));
    // Deleting a namespace deletes what is in it, as the namespace controller does.
    if (deleted && r.kind === 'Namespace') {
      for (const inner of store.all()) if (inner.metadata.namespace === r.metadata.name) store.delete(resourceKey(inner));
    }
    results.push({ ref: typeRef(r), namespace: r.metadata.namespace, action: deleted ? 'deleted' : 'not found' });
  }
  return { ok: true, results };
}

/** The object as stored: as written, with its namespace filled in. */
function desiredObject(r: AnyResource): Record<string, unknown> {
  const object = structuredClone(r.raw);
  const meta = { ...((object.metadata ?? {}) as Record<string, unknown>) };
  if (r.metadata.namespace !== '') meta.namespace = r.metadata.namespace;
  object.metadata = meta;
  return object;
}

function same(stored: Record<string, unknown>, desired: Record<string, unknown>): boolean {
  const strip = (o: Record<string, unknown>) => {
    const meta = { ...((o.metadata ?? {}) as Record<string, unknown>) };
    for (const f of SERVER_META) delete meta[f];
    return JSON.stringify(sortKeys({ ...o, metadata: meta }));
  };
  return strip(stored) === strip(desired);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, sortKeys(v)]));
}
