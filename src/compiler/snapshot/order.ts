/**
 * Istio's config ordering (pilot/pkg/model/config.go sortConfigByCreationTime): oldest first, then
 * by name, then by namespace. Files rarely carry creationTimestamp, so in practice name order
 * decides; either way the order never depends on the order files were read.
 */
import type { AnyResource } from '../../resources/index.js';
import type { ConfigSource } from '../../proxy-config/index.js';

export function compareConfigs(a: AnyResource, b: AnyResource): number {
  return compare(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '')
    || compare(a.metadata.name, b.metadata.name)
    || compare(a.metadata.namespace, b.metadata.namespace);
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sourceOf(r: AnyResource, path?: string): ConfigSource {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, ...(path ? { path } : {}) };
}
