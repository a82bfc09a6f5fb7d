/**
 * What the control plane watches on a cluster, as istiod does: Istio's config CRDs, the core
 * objects the registry is built from (Services, Pods, Namespaces), and the `istio` ConfigMap that
 * carries meshConfig. Each Istio group lists its versions in order of preference: a cluster whose
 * CRDs predate v1 serves only v1beta1 (or v1alpha3), and is read in that version.
 */

export interface WatchedKind {
  kind: string;
  /** '' for core v1. */
  group: string;
  /** Preferred first. */
  versions: readonly string[];
  /** The resource name in URLs. */
  plural: string;
}

const NETWORKING = ['v1', 'v1beta1', 'v1alpha3'];
const SECURITY = ['v1', 'v1beta1'];
const TELEMETRY = ['v1', 'v1alpha1'];

export const WATCHED_KINDS: readonly WatchedKind[] = [
  { kind: 'Gateway', group: 'networking.istio.io', versions: NETWORKING, plural: 'gateways' },
  { kind: 'VirtualService', group: 'networking.istio.io', versions: NETWORKING, plural: 'virtualservices' },
  { kind: 'DestinationRule', group: 'networking.istio.io', versions: NETWORKING, plural: 'destinationrules' },
  { kind: 'ServiceEntry', group: 'networking.istio.io', versions: NETWORKING, plural: 'serviceentries' },
  { kind: 'WorkloadEntry', group: 'networking.istio.io', versions: NETWORKING, plural: 'workloadentries' },
  { kind: 'Sidecar', group: 'networking.istio.io', versions: NETWORKING, plural: 'sidecars' },
  { kind: 'PeerAuthentication', group: 'security.istio.io', versions: SECURITY, plural: 'peerauthentications' },
  { kind: 'RequestAuthentication', group: 'security.istio.io', versions: SECURITY, plural: 'requestauthentications' },
  { kind: 'AuthorizationPolicy', group: 'security.istio.io', versions: SECURITY, plural: 'authorizationpolicies' },
  { kind: 'Telemetry', group: 'telemetry.istio.io', versions: TELEMETRY, plural: 'telemetries' },
  { kind: 'Service', group: '', versions: ['v1'], plural: 'services' },
  { kind: 'Pod', group: '', versions: ['v1'], plural: 'pods' },
  { kind: 'Namespace', group: '', versions: ['v1'], plural: 'namespaces' },
];

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** The collection URL across all namespaces: `/apis/networking.istio.io/v1/virtualservices`. */
export function collectionPath(group: string, version: string, plural: string, namespace?: string): string {
  const root = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  return namespace ? `${root}/namespaces/${namespace}/${plural}` : `${root}/${plural}`;
}

/** One object's URL, the name diagnostics give it. */
export function objectPath(group: string, version: string, plural: string, namespace: string, name: string): string {
  return `${collectionPath(group, version, plural, namespace || undefined)}/${name}`;
}
