/**
 * The message catalog: Istio's codes, names, levels and templates
 * (istio/istio pkg/config/analysis/msg/messages.yaml), plus Weft's own WFT codes for problems
 * Istio reports outside its analyzers (YAML syntax, unknown kinds, duplicates in one apply).
 * Analyzers report only through this table, so a code always means the same thing.
 */
import type { Level } from '../lib/diagnostic.js';

export interface MessageType {
  code: string;
  name: string;
  level: Level;
  template: string;
}

function m(code: string, name: string, level: Level, template: string): MessageType {
  return { code, name, level, template };
}

export const Messages = {
  YamlSyntaxError: m('WFT0001', 'YamlSyntaxError', 'Error', 'YAML syntax error: %s'),
  UnknownKind: m('WFT0002', 'UnknownKind', 'Error', '%s'),
  DuplicateResource: m('WFT0003', 'DuplicateResource', 'Error', '%s %s is defined more than once (first at %s)'),
  ResourceRedefined: m('WFT0007', 'ResourceRedefined', 'Warning', '%s %s is defined more than once (first at %s); the last definition is analyzed'),
  InvalidDocument: m('WFT0004', 'InvalidDocument', 'Error', '%s'),
  WeightsDoNotAddUp: m('WFT0005', 'WeightsDoNotAddUp', 'Warning', 'route weights add up to %d, not 100; traffic is split in proportion to the weights'),

  InternalError: m('IST0001', 'InternalError', 'Error', 'Internal error: %s'),
  Deprecated: m('IST0002', 'Deprecated', 'Warning', 'Deprecated: %s'),
  ReferencedResourceNotFound: m('IST0101', 'ReferencedResourceNotFound', 'Error', 'Referenced %s not found: %q'),
  NamespaceNotInjected: m('IST0102', 'NamespaceNotInjected', 'Info',
    "The namespace is not enabled for Istio injection. Run 'kubectl label namespace %s istio-injection=enabled' to enable it, or 'kubectl label namespace %s istio-injection=disabled' to explicitly mark it as not needing injection."),
  PodMissingProxy: m('IST0103', 'PodMissingProxy', 'Warning', 'The pod %s is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload.'),
  SchemaValidationError: m('IST0106', 'SchemaValidationError', 'Error', 'Schema validation error: %s'),
  MisplacedAnnotation: m('IST0107', 'MisplacedAnnotation', 'Warning', 'Misplaced annotation: %s can only be applied to %s'),
  UnknownAnnotation: m('IST0108', 'UnknownAnnotation', 'Warning', 'Unknown annotation: %s'),
  ConflictingMeshGatewayVirtualServiceHosts: m('IST0109', 'ConflictingMeshGatewayVirtualServiceHosts', 'Error',
    'The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.'),
  ConflictingSidecarWorkloadSelectors: m('IST0110', 'ConflictingSidecarWorkloadSelectors', 'Error',
    'The Sidecars %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.'),
  MultipleSidecarsWithoutWorkloadSelectors: m('IST0111', 'MultipleSidecarsWithoutWorkloadSelectors', 'Error',
    'The Sidecars %v in namespace %q have no workload selector, which can lead to undefined behavior.'),
  VirtualServiceDestinationPortSelectorRequired: m('IST0112', 'VirtualServiceDestinationPortSelectorRequired', 'Error',
    'This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.'),
  MTLSPolicyConflict: m('IST0113', 'MTLSPolicyConflict', 'Error',
    'A DestinationRule and Policy are in conflict with regards to mTLS for host %s. The DestinationRule %q specifies that mTLS must be %t but the Policy object %q specifies %s.'),
  DeploymentAssociatedToMultipleServices: m('IST0116', 'DeploymentAssociatedToMultipleServices', 'Warning',
    'This deployment %s is associated with multiple services using port %d but different protocols: %v'),
  PortNameIsNotUnderNamingConvention: m('IST0118', 'PortNameIsNotUnderNamingConvention', 'Info',
    "Port name %s (port: %d, targetPort: %s) doesn't follow the naming convention of Istio port."),
  JwtFailureDueToInvalidServicePortPrefix: m('IST0119', 'JwtFailureDueToInvalidServicePortPrefix', 'Warning',
    'Authentication policy with JWT targets Service with invalid port specification (port: %d, name: %s, protocol: %s, targetPort: %s).'),
  InvalidRegexp: m('IST0122', 'InvalidRegexp', 'Warning', 'Field %q regular expression invalid: %q (%s)'),
  NamespaceMultipleInjectionLabels: m('IST0123', 'NamespaceMultipleInjectionLabels', 'Warning',
    'The namespace has more than one type of injection labels %v, which may lead to undefined behavior. Make sure only one injection label exists.'),
  InvalidAnnotation: m('IST0125', 'InvalidAnnotation', 'Warning', 'Invalid annotation %s: %s'),
  NoMatchingWorkloadsFound: m('IST0127', 'NoMatchingWorkloadsFound', 'Warning', 'No matching workloads for this resource with the following labels: %s'),
  NoServerCertificateVerificationDestinationLevel: m('IST0128', 'NoServerCertificateVerificationDestinationLevel', 'Warning',
    'DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s'),
  NoServerCertificateVerificationPortLevel: m('IST0129', 'NoServerCertificateVerificationPortLevel', 'Warning',
    'DestinationRule %s in namespace %s has TLS mode set to %s but no caCertificates are set to validate server identity for host: %s at port %s'),
  VirtualServiceUnreachableRule: m('IST0130', 'VirtualServiceUnreachableRule', 'Warning', 'VirtualService rule %v not used (%s).'),
  VirtualServiceIneffectiveMatch: m('IST0131', 'VirtualServiceIneffectiveMatch', 'Info',
    'VirtualService rule %v match %v is not used (duplicate/overlapping match in rule %v).'),
  VirtualServiceHostNotFoundInGateway: m('IST0132', 'VirtualServiceHostNotFoundInGateway', 'Warning',
    'one or more host %v defined in VirtualService %s not found in Gateway %s.'),
  SchemaWarning: m('IST0133', 'SchemaWarning', 'Warning', 'Schema validation warning: %s'),
  ServiceEntryAddressesRequired: m('IST0134', 'ServiceEntryAddressesRequired', 'Warning', 'ServiceEntry addresses are required for this protocol.'),
  DeprecatedAnnotation: m('IST0135', 'DeprecatedAnnotation', 'Info', 'Annotation %q has been deprecated%s and may not work in future Istio versions.'),
  AlphaAnnotation: m('IST0136', 'AlphaAnnotation', 'Info', 'Annotation %q is part of an alpha-phase feature and may be incompletely supported.'),
  DeploymentConflictingPorts: m('IST0137', 'DeploymentConflictingPorts', 'Warning',
    'This deployment %s is associated with multiple services %v using targetPort %q but different ports: %v.'),
  GatewayDuplicateCertificate: m('IST0138', 'GatewayDuplicateCertificate', 'Warning',
    'Duplicate certificate in multiple gateways %v may cause 404s if clients re-use HTTP2 connections.'),
  IngressRouteRulesNotAffected: m('IST0140', 'IngressRouteRulesNotAffected', 'Warning',
    'Subset in virtual service %s has no effect on ingress gateway %s requests'),
  InvalidApplicationUID: m('IST0144', 'InvalidApplicationUID', 'Warning', 'User ID (UID) 1337 is reserved for the sidecar proxy.'),
  ConflictingGateways: m('IST0145', 'ConflictingGateways', 'Error', 'Conflict with gateways %s (workload selector %s, port %s, hosts %v).'),
  JwtClaimBasedRoutingWithoutRequestAuthN: m('IST0149', 'JwtClaimBasedRoutingWithoutRequestAuthN', 'Error',
    'The virtual service uses the JWT claim based routing (key: %s) but found no request authentication for the gateway (%s) pod (%s). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing.'),
  ExternalNameServiceTypeInvalidPortName: m('IST0150', 'ExternalNameServiceTypeInvalidPortName', 'Warning',
    'Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly'),
  InvalidTelemetryProvider: m('IST0157', 'InvalidTelemetryProvider', 'Warning', 'The Telemetry %v in namespace %q with empty providers will be ignored.'),
  ConflictingTelemetryWorkloadSelectors: m('IST0159', 'ConflictingTelemetryWorkloadSelectors', 'Error',
    'The Telemetries %v in namespace %q select the same workload pod %q, which can lead to undefined behavior.'),
  MultipleTelemetriesWithoutWorkloadSelectors: m('IST0160', 'MultipleTelemetriesWithoutWorkloadSelectors', 'Error',
    'The Telemetries %v in namespace %q have no workload selector, which can lead to undefined behavior.'),
  InvalidGatewayCredential: m('IST0161', 'InvalidGatewayCredential', 'Error',
    'The credential referenced by the Gateway %s in namespace %s is invalid, which can cause the traffic not to work as expected.'),
  GatewayPortNotDefinedOnService: m('IST0162', 'GatewayPortNotDefinedOnService', 'Warning',
    'The gateway is listening on a target port (port %d) that is not defined in the Service associated with its workload instances (Pod selector %s). If you need to access the gateway port through the gateway Service, it will not be available.'),
  DestinationRuleSubsetNotSelectPods: m('IST0173', 'DestinationRuleSubsetNotSelectPods', 'Error',
    'The Subset %s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).'),
  UnknownDestinationRuleHost: m('IST0174', 'UnknownDestinationRuleHost', 'Warning',
    'The host %s defined in the DestinationRule does not match any services in the mesh.'),
  ConflictingServiceEntryProtocol: m('IST0177', 'ConflictingServiceEntryProtocol', 'Warning',
    'Multiple ServiceEntries (%s) define the same host %q and port %d with conflicting protocols (%s).'),
  IneffectivePolicy: m('IST0167', 'IneffectivePolicy', 'Warning', 'The policy has no impact: %s.'),
} as const satisfies Record<string, MessageType>;

export type MessageName = keyof typeof Messages;

/** Fills a Go-style template: %s %v %d %t print the value, %q quotes it; arrays print as [a b]. */
export function formatMessage(type: MessageType, args: readonly unknown[]): string {
  let i = 0;
  return type.template.replace(/%([svdtq])/g, (_all, verb: string) => {
    const value = args[i++];
    const text = Array.isArray(value) ? `[${value.map(String).join(' ')}]` : String(value);
    return verb === 'q' ? JSON.stringify(text) : text;
  });
}
