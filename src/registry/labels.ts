/** Label selection as Istio and Kubernetes do it for Services, ServiceEntries and policies. */

/** Every label of `selector` is on `labels`; an empty selector selects everything. */
export function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector)) if (labels[key] !== value) return false;
  return true;
}

/** A WorkloadEntry or ServiceEntry endpoint speaks Istio mTLS only when labelled so (Istio's tlsMode label). */
export function workloadEntryTlsMode(labels: Readonly<Record<string, string>>): 'istio' | 'disabled' {
  return labels['security.istio.io/tlsMode'] === 'istio' ? 'istio' : 'disabled';
}
