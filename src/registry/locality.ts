/**
 * Where a workload runs, as Istio reads it: `region/zone/subzone`. Pods carry it in the
 * `istio-locality` label with dots (label values cannot hold `/`: `us-east.zone1.sub-a`);
 * WorkloadEntries and ServiceEntry endpoints in their `locality` field, else in that label.
 * Istio falls back to the node's topology labels; the local runtime has one node and none.
 */

export const LOCALITY_LABEL = 'istio-locality';

/** Istio's GetLocalityLabel: every `.` of the label value becomes `/`. */
export function localityFromLabels(labels: Readonly<Record<string, string>> | undefined): string | undefined {
  const raw = labels?.[LOCALITY_LABEL];
  return raw ? raw.replaceAll('.', '/') : undefined;
}

/** A WorkloadEntry's (or ServiceEntry endpoint's) locality: the field first, then the label. */
export function entryLocality(field: string | undefined, labels: Readonly<Record<string, string>> | undefined): string | undefined {
  return field ? field : localityFromLabels(labels);
}

/** `locality` as an optional property, so endpoints without one keep their shape. */
export function withLocality(locality: string | undefined): { locality?: string } {
  return locality ? { locality } : {};
}
