/**
 * The Kubernetes-shaped objects an install renders and the runtime stores, plus the plain-data
 * helpers install needs to merge and compare them (istioctl works on untyped maps for the same
 * reason: what matters is what the user wrote, not a struct's zero values).
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type PlainMap = Record<string, unknown>;

export function isMap(value: unknown): value is PlainMap {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * istioctl's values.Map MergeFrom: mappings merge key by key, anything else (lists included) is
 * replaced whole by the overlay. So a file's `ingressGateways` list replaces the profile's.
 */
export function mergeFrom(base: PlainMap, overlay: PlainMap): PlainMap {
  const out: PlainMap = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    out[key] = isMap(value) && isMap(current) ? mergeFrom(current, value) : structuredClone(value);
  }
  return out;
}

/** `group|Kind|namespace|name`, the identity the runtime's store uses too. */
export function objectKey(o: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}|${o.kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
}

/** `Deployment istio-system/istiod`, as plans print it. */
export function objectName(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** JSON with sorted keys: equal data gives equal text, whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}

/** Drops keys whose value is undefined, so rendered objects hold only what was decided. */
export function compact<T extends PlainMap>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
