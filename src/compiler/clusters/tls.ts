/**
 * Client TLS of an outbound cluster (Istio's cluster_tls.go). DestinationRule `tls` decides:
 * ISTIO_MUTUAL uses the workload certificate (`default`) and the mesh CA (`ROOTCA`) with Istio's
 * SNI and the service accounts' SPIFFE IDs; SIMPLE and MUTUAL name their certificates by
 * credentialName (SDS name) or file; DISABLE sends plaintext. With no `tls`, auto mTLS decides per
 * endpoint: the cluster carries no TLS and each endpoint's `tlsMode` says whether it has a proxy.
 */
import type { ClientTlsSettings } from '../../resources/istio/destination-rule.js';
import type { UpstreamTls } from '../../proxy-config/index.js';

export interface ClusterTlsInput {
  sni: string;
  /** SPIFFE IDs of the service accounts behind the cluster. */
  serviceAccounts: string[];
  http2: boolean;
  hostname: string;
}

/** `auto` keeps each endpoint's tlsMode; `plaintext` forces it off for this cluster's endpoints. */
export type EndpointTls = 'auto' | 'plaintext' | 'cluster';

export function upstreamTls(tls: ClientTlsSettings | undefined, input: ClusterTlsInput, autoMtls: boolean): { tls?: UpstreamTls; endpoints: EndpointTls } {
  if (!tls) return { endpoints: autoMtls ? 'auto' : 'plaintext' };
  const alpn = input.http2 ? ['h2'] : undefined;
  switch (tls.mode) {
    case 'DISABLE':
      return { endpoints: 'plaintext' };
    case 'ISTIO_MUTUAL':
      return {
        endpoints: 'cluster',
        tls: {
          mode: 'ISTIO_MUTUAL',
          certificate: 'default',
          validationContext: 'ROOTCA',
          sni: tls.sni ?? input.sni,
          subjectAltNames: tls.subjectAltNames ?? input.serviceAccounts,
          alpn: ['istio-peer-exchange', 'istio', ...(alpn ?? [])],
        },
      };
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
