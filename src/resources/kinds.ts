/** The one list of kinds Weft understands. Adding a kind means adding it here. */
import type { KindDefinition, Resource } from './resource.js';
import { gatewayKind, type GatewaySpec } from './istio/gateway.js';
import { virtualServiceKind, type VirtualServiceSpec } from './istio/virtual-service.js';
import { destinationRuleKind, type DestinationRuleSpec } from './istio/destination-rule.js';
import { serviceEntryKind, type ServiceEntrySpec } from './istio/service-entry.js';
import { workloadEntryKind, type WorkloadEntrySpec } from './istio/workload-entry.js';
import { sidecarKind, type SidecarSpec } from './istio/sidecar.js';
import { peerAuthenticationKind, type PeerAuthenticationSpec } from './istio/peer-authentication.js';
import { requestAuthenticationKind, type RequestAuthenticationSpec } from './istio/request-authentication.js';
import { authorizationPolicyKind, type AuthorizationPolicySpec } from './istio/authorization-policy.js';
import { telemetryKind, type TelemetrySpec } from './istio/telemetry.js';
import { istioOperatorKind, type IstioOperatorSpec } from './install/istio-operator.js';
import { namespaceKind, type NamespaceSpec } from './kube/namespace.js';
import { serviceAccountKind, type ServiceAccountSpec } from './kube/service-account.js';
import { serviceKind, type ServiceSpec } from './kube/service.js';
import { deploymentKind, type DeploymentSpec } from './kube/deployment.js';
import { podKind, type PodSpec } from './kube/pod.js';

/** The typed spec of every kind, by kind name. */
export interface KindSpecs {
  Gateway: GatewaySpec;
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  ServiceEntry: ServiceEntrySpec;
  WorkloadEntry: WorkloadEntrySpec;
  Sidecar: SidecarSpec;
  PeerAuthentication: PeerAuthenticationSpec;
  RequestAuthentication: RequestAuthenticationSpec;
  AuthorizationPolicy: AuthorizationPolicySpec;
  Telemetry: TelemetrySpec;
  IstioOperator: IstioOperatorSpec;
  Namespace: NamespaceSpec;
  ServiceAccount: ServiceAccountSpec;
  Service: ServiceSpec;
  Deployment: DeploymentSpec;
  Pod: PodSpec;
}

export type KindName = keyof KindSpecs;

/** A resource of one known kind; narrow with `r.kind === 'VirtualService'`. */
export type AnyResource = { [K in KindName]: Resource<K, KindSpecs[K]> }[KindName];
export type ResourceOf<K extends KindName> = Resource<K, KindSpecs[K]>;

export const KINDS: readonly KindDefinition[] = [
  gatewayKind,
  virtualServiceKind,
  destinationRuleKind,
  serviceEntryKind,
  workloadEntryKind,
  sidecarKind,
  peerAuthenticationKind,
  requestAuthenticationKind,
  authorizationPolicyKind,
  telemetryKind,
  istioOperatorKind,
  namespaceKind,
  serviceAccountKind,
  serviceKind,
  deploymentKind,
  podKind,
] as KindDefinition[];

const byApiVersionKind = new Map<string, KindDefinition>();
for (const def of KINDS) {
  for (const version of def.versions) {
    byApiVersionKind.set(`${def.group === '' ? version : `${def.group}/${version}`}|${def.kind}`, def);
  }
}

export function findKind(apiVersion: string, kind: string): KindDefinition | undefined {
  return byApiVersionKind.get(`${apiVersion}|${kind}`);
}

/** All apiVersions that serve a kind name (to suggest the right one when a pair is wrong). */
export function apiVersionsForKind(kind: string): string[] {
  const out: string[] = [];
  for (const def of KINDS) {
    if (def.kind.toLowerCase() !== kind.toLowerCase()) continue;
    for (const v of def.versions) out.push(def.group === '' ? v : `${def.group}/${v}`);
  }
  return out;
}
