/**
 * buildSnapshot: everything the per-proxy compile looks up, indexed once per change and shared
 * read-only by every proxy (Istio's PushContext, pilot/pkg/model/push_context.go):
 * VirtualServices by gateway and host with delegates expanded, DestinationRules by namespace and
 * host, Gateways by selector, Sidecars by workload, and the security policies in a fixed order.
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { MeshOptions, Registry } from '../registry/index.js';
import { indexVirtualServices, type VirtualServiceIndex } from './snapshot/virtual-services.js';
import { indexDestinationRules, type DestinationRuleIndex } from './snapshot/destination-rules.js';
import { indexGateways, indexSidecars, type GatewayIndex, type SidecarIndex } from './snapshot/gateways-sidecars.js';
import { compareConfigs } from './snapshot/order.js';

export interface Snapshot {
  readonly mesh: MeshOptions;
  readonly registry: Registry;
  readonly virtualServices: VirtualServiceIndex;
  readonly destinationRules: DestinationRuleIndex;
  readonly gateways: GatewayIndex;
  readonly sidecars: SidecarIndex;
  /** Oldest first, as Istio resolves conflicts between policies at one level. */
  readonly peerAuthentications: readonly ResourceOf<'PeerAuthentication'>[];
  readonly requestAuthentications: readonly ResourceOf<'RequestAuthentication'>[];
  readonly authorizationPolicies: readonly ResourceOf<'AuthorizationPolicy'>[];
  /** Oldest first: Istio takes the first namespace-wide and the first matching workload Telemetry. */
  readonly telemetries: readonly ResourceOf<'Telemetry'>[];
}

export function buildSnapshot(resources: readonly AnyResource[], registry: Registry, mesh: MeshOptions): Snapshot {
  const of = <K extends AnyResource['kind']>(kind: K) =>
    resources.filter((r): r is Extract<AnyResource, { kind: K }> => r.kind === kind).sort(compareConfigs);
  return {
    mesh,
    registry,
    virtualServices: indexVirtualServices(resources, mesh),
    destinationRules: indexDestinationRules(resources, mesh),
    gateways: indexGateways(resources),
    sidecars: indexSidecars(resources, mesh),
    peerAuthentications: of('PeerAuthentication'),
    requestAuthentications: of('RequestAuthentication'),
    authorizationPolicies: of('AuthorizationPolicy'),
    telemetries: of('Telemetry'),
  };
}
