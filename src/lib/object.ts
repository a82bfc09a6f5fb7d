/**
 * Kubernetes and protobuf JSON decode `field: null` as an absent field (kubectl and Helm output
 * is full of `rollingUpdate: null` and `annotations: null`), so nulls in mappings are dropped
 * before any schema sees a document.
 */
export function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
  return out;
}
