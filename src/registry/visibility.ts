/**
 * `exportTo` as Istio reads it for Services (annotation `networking.istio.io/exportTo`),
 * ServiceEntries, VirtualServices and DestinationRules: empty means the mesh default (normally
 * `*`, every namespace), `.` the owner's namespace, `~` no namespace, anything else a namespace.
 */
import type { Visibility } from './types.js';

export const EXPORT_TO_ANNOTATION = 'networking.istio.io/exportTo';

const PUBLIC: Visibility = { public: true };

export function parseExportTo(exportTo: readonly string[] | undefined, ownerNamespace: string, meshDefault: readonly string[]): Visibility {
  const entries = exportTo && exportTo.length > 0 ? exportTo : meshDefault.length > 0 ? meshDefault : ['*'];
  if (entries.includes('*')) return PUBLIC;
  const namespaces = new Set<string>();
  for (const entry of entries) {
    if (entry === '~') continue;
    namespaces.add(entry === '.' ? ownerNamespace : entry);
  }
  return { public: false, namespaces };
}

/** The annotation's value is a comma-separated list, spaces allowed. */
export function exportToAnnotation(annotations: Readonly<Record<string, string>> | undefined): string[] | undefined {
  const value = annotations?.[EXPORT_TO_ANNOTATION];
  if (value === undefined) return undefined;
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function isVisibleTo(visibility: Visibility, namespace: string): boolean {
  return visibility.public || visibility.namespaces.has(namespace);
}
