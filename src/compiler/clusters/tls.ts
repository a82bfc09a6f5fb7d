/**
 * Client TLS of an outbound cluster, as Istio decides it (cluster_tls.go buildUpstreamTLSSettings,
 * PushContext.BestEffortInferServiceMTLSMode and the EDS mtlsChecker):
 *  - a DestinationRule `tls` wins: ISTIO_MUTUAL uses the workload certificate (`default`) and the
 *    mesh CA (`ROOTCA`) with Istio's SNI and the service accounts' SPIFFE IDs; SIMPLE and MUTUAL
 *    name their certificates by credentialName (SDS name) or file; DISABLE sends plaintext;
 *  - without one, auto mTLS: nothing for mesh-external services, nor when the mesh or namespace
 *    PeerAuthentication of the service's namespace is DISABLE (Istio only looks that far for the
 *    cluster); otherwise each endpoint decides: ISTIO_MUTUAL when it runs a sidecar and its own
 *    workload's PeerAuthentication (workload > namespace > mesh, port-level by the endpoint port)
 *    is not DISABLE, plaintext otherwise. Passthrough (headless) clusters have no per-endpoint
 *    choice: ISTIO_MUTUAL for the whole cluster only when every endpoint has a sidecar.
 */
import type { ClientTlsSettings } from '../../resources/istio/destination-rule.js';
import type { UpstreamTls } from '../../proxy-config/index.js';
import type { Service, ServiceEndpoint } from '../../registry/index.js';
import type { Snapshot } from '../snapshot.js';
import { peerAuthnPolicy } from '../security/peer-authn.js';

export interface ClusterTlsInput {
  sni: string;
  /** SPIFFE IDs of the service accounts behind the cluster. */
  serviceAccounts: string[];
  http2: boolean;
  hostname: string;
  /** Istio's inferred service mTLS mode (serviceMtlsMode), the hint auto mTLS starts from. */
  serviceMtls: ServiceMtls;
  /** ORIGINAL_DST: no endpoints to carry a per-endpoint choice. */
  passthrough: boolean;
}

/** `auto` keeps each endpoint's tlsMode; `plaintext` forces it off for this cluster's endpoints. */
export type EndpointTls = 'auto' | 'plaintext' | 'cluster';

/** Istio's MutualTLSMode as the client infers it for a service; UNKNOWN for mesh-external ones. */
export type ServiceMtls = 'UNKNOWN' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

/**
 * BestEffortInferServiceMTLSMode: mesh-external services are UNKNOWN; passthrough ones (headless,
 * or a DestinationRule's PASSTHROUGH load balancer) are DISABLE unless every endpoint has a
 * sidecar; otherwise the namespace (else mesh) PeerAuthentication mode, PERMISSIVE by default.
 * Workload and port-level policies are deliberately not read here: they are per endpoint.
 */
export function serviceMtlsMode(snapshot: Snapshot, service: Service, endpoints: readonly ServiceEndpoint[], passthrough: boolean): ServiceMtls {
  if (service.location === 'MESH_EXTERNAL') return 'UNKNOWN';
  if (passthrough && (endpoints.length === 0 || endpoints.some((e) => e.tlsMode !== 'istio'))) return 'DISABLE';
  // No labels: only the mesh and namespace policies (those without a selector) can apply.
  return peerAuthnPolicy(snapshot.peerAuthentications, snapshot.mesh, service.namespace, {}).mode;
}

/**
 * The mtlsChecker of Istio's EDS: an endpoint gets Istio mTLS only when it runs a sidecar and its
 * workload's PeerAuthentication for the endpoint (workload) port is not DISABLE.
 */
export function autoMtlsEndpoints(snapshot: Snapshot, endpoints: readonly ServiceEndpoint[]): ServiceEndpoint[] {
  return endpoints.map((e) => {
    if (e.tlsMode !== 'istio') return e;
    const namespace = e.workload?.namespace ?? e.serviceNamespace;
    const policy = peerAuthnPolicy(snapshot.peerAuthentications, snapshot.mesh, namespace, e.labels);
    const mode = policy.ports.get(e.port) ?? policy.mode;
    return mode === 'DISABLE' ? { ...e, tlsMode: 'disabled' } : e;
  });
}

function istioMutual(sni: string, subjectAltNames: string[], http2: boolean): UpstreamTls {
  return {
    mode: 'ISTIO_MUTUAL',
    certificate: 'default',
    validationContext: 'ROOTCA',
    sni,
    subjectAltNames,
    alpn: ['istio-peer-exchange', 'istio', ...(http2 ? ['h2'] : [])],
  };
}

export function upstreamTls(tls: ClientTlsSettings | undefined, input: ClusterTlsInput, autoMtls: boolean): { tls?: UpstreamTls; endpoints: EndpointTls } {
  if (!tls) {
    if (!autoMtls || input.serviceMtls === 'UNKNOWN' || input.serviceMtls === 'DISABLE') return { endpoints: 'plaintext' };
    // Envoy's transport socket matches need endpoint metadata; ORIGINAL_DST keeps the cluster's socket.
    if (input.passthrough) return { endpoints: 'cluster', tls: istioMutual(input.sni, input.serviceAccounts, input.http2) };
    return { endpoints: 'auto' };
  }
  const alpn = input.http2 ? ['h2'] : undefined;
  switch (tls.mode) {
    case 'DISABLE':
      return { endpoints: 'plaintext' };
    case 'ISTIO_MUTUAL':
      return { endpoints: 'cluster', tls: istioMutual(tls.sni ?? input.sni, tls.subjectAltNames ?? input.serviceAccounts, input.http2) };
    case 'SIMPLE':
    case 'MUTUAL': {
      const ca = tls.credentialName ? `${tls.credentialName}-cacert` : tls.caCertificates ? `file-root:${tls.caCertificates}` : undefined;
      const cert = tls.mode === 'MUTUAL'
        ? tls.credentialName ?? (tls.clientCertificate ? `file-cert:${tls.clientCertificate}~${tls.privateKey ?? ''}` : undefined)
        : undefined;
      const sni = tls.sni ?? (input.hostname.startsWith('*') ? undefined : input.hostname);
      return {
        endpoints: 'cluster',
        tls: {
          mode: tls.mode,
          ...(cert ? { certificate: cert } : {}),
          ...(ca ? { validationContext: ca } : {}),
          ...(sni ? { sni } : {}),
          ...(tls.subjectAltNames?.length ? { subjectAltNames: tls.subjectAltNames } : {}),
          ...(alpn ? { alpn } : {}),
          ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
        },
      };
    }
  }
}
