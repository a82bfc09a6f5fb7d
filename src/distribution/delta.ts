/**
 * The proxy's half of delta pushes: the named resource types of a config, and rebuilding a whole
 * config from the last one received plus a delta (resources added or changed, names removed).
 * The proxy's apply path stays whole-or-nothing: it is handed the rebuilt config, never a delta.
 * Client-safe: imports only proxy-config types.
 */
import type { ProxyConfig } from '../proxy-config/index.js';

/** The named lists of a config, in the order a full config lists them. */
export const RESOURCE_TYPES = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Resources by type, as a delta carries them: changed ones whole, removed ones by name. */
export type ResourceUpserts = { [T in ResourceType]?: ProxyConfig[T] } & { node?: ProxyConfig['node']; mesh?: ProxyConfig['mesh'] };
export type ResourceRemoves = { [T in ResourceType]?: string[] };

/** The name a resource is known by within its type (a load assignment is named by its cluster). */
export function resourceName(type: ResourceType, resource: object): string {
  const key = type === 'endpoints' ? 'cluster' : 'name';
  return String((resource as Record<string, unknown>)[key]);
}

/** Names compare by UTF-16 code units, as the compiler sorts them, so a rebuilt list is in the compiler's order. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The config `base` becomes with the delta applied, carrying `version`. Unchanged resources are
 * shared with `base` (neither is ever mutated), so holding both costs only what changed.
 */
export function applyDelta(base: ProxyConfig, version: string, upserts: ResourceUpserts, removes: ResourceRemoves): ProxyConfig {
  const next: ProxyConfig = { ...base, version, node: upserts.node ?? base.node, mesh: upserts.mesh ?? base.mesh };
  for (const type of RESOURCE_TYPES) {
    const added = upserts[type];
    const gone = removes[type];
    if (!added?.length && !gone?.length) continue;
    const byNameMap = new Map<string, object>(base[type].map((r) => [resourceName(type, r), r]));
    for (const name of gone ?? []) byNameMap.delete(name);
    for (const r of added ?? []) byNameMap.set(resourceName(type, r), r);
    const names = [...byNameMap.keys()].sort(byName);
    (next as unknown as Record<ResourceType, object[]>)[type] = names.map((n) => byNameMap.get(n) as object);
  }
  return next;
}
