/**
 * TLS origination on upstream connections, as Istio's DestinationRule ClientTLSSettings:
 * SIMPLE verifies the server against the validationContext CA (Node's default CAs without one);
 * MUTUAL also presents the `certificate` secret; ISTIO_MUTUAL is MUTUAL with the mesh secrets
 * (`default`, `ROOTCA`), Istio's ALPN and the `outbound_.port_.subset_.host` SNI. Auto mTLS
 * sends ISTIO_MUTUAL to endpoints whose tlsMode is `istio` when the cluster sets no TLS itself.
 */
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Cluster, Secret, UpstreamTls } from '../../proxy-config/index.js';

export type TlsProtocol = 'http1' | 'http2' | 'tcp';

/** Everything needed to open a TLS connection to one endpoint of a cluster. */
export interface Origination {
  mode: UpstreamTls['mode'];
  ca?: string;
  cert?: string;
  key?: string;
  sni?: string;
  subjectAltNames: string[];
  alpn: string[];
  /** Istio adds h2 to its ALPN on HTTP/2 clusters. */
  alpnH2: string[];
  insecureSkipVerify: boolean;
  /** A referenced secret is missing: every connection fails with this transport failure reason. */
  missing?: string;
}

/** Istio's ALPNInMeshWithMxc / ALPNInMeshH2WithMxc. */
const ISTIO_ALPN = ['istio-peer-exchange', 'istio'];

function secretByName(secrets: readonly Secret[], name: string | undefined): Secret | undefined {
  return name === undefined ? undefined : secrets.find((s) => s && s.name === name);
}

/** Istio's model.BuildDNSSrvSubsetKey, which is the cluster name with `|` as `_.`. */
function istioSni(cluster: Cluster): string | undefined {
  return cluster.name.includes('|') ? cluster.name.split('|').join('_.') : cluster.service?.host;
}

export function resolveOrigination(cluster: Cluster, settings: UpstreamTls, secrets: readonly Secret[]): Origination {
  const istio = settings.mode === 'ISTIO_MUTUAL';
  const certName = istio ? 'default' : settings.certificate;
  const caName = istio ? 'ROOTCA' : settings.validationContext;
  const explicitAlpn = Array.isArray(settings.alpn) && settings.alpn.length > 0 ? settings.alpn.filter((p) => typeof p === 'string') : undefined;
  const o: Origination = {
    mode: settings.mode,
    subjectAltNames: Array.isArray(settings.subjectAltNames) ? settings.subjectAltNames.filter((s) => typeof s === 'string') : [],
    alpn: explicitAlpn ?? (istio ? ISTIO_ALPN : []),
    alpnH2: explicitAlpn ?? (istio ? [...ISTIO_ALPN, 'h2'] : ['h2']),
    insecureSkipVerify: settings.insecureSkipVerify === true,
  };
  const sni = typeof settings.sni === 'string' && settings.sni !== '' ? settings.sni : istio ? istioSni(cluster) : cluster.service?.host;
  if (sni) o.sni = sni;
  if (caName !== undefined) {
    const ca = secretByName(secrets, caName)?.trustedCa;
    if (ca) o.ca = ca;
    else if (!o.insecureSkipVerify) o.missing = `missing trusted CA secret ${caName}`;
  }
  if (settings.mode === 'MUTUAL' || istio) {
    const s = secretByName(secrets, certName);
    if (s?.certificateChain && s.privateKey) {
      o.cert = s.certificateChain;
      o.key = s.privateKey;
    } else {
      o.missing ??= `missing certificate secret ${certName ?? '(none)'}`;
    }
  }
  return o;
}

/** Per-endpoint origination for a cluster: its own TLS, else auto mTLS for `istio` endpoints. */
export interface ClusterTls {
  explicit?: Origination;
  auto?: Origination;
  /** Our own trust domain (from the workload certificate): auto mTLS expects `spiffe://<it>/ns/<ns>/sa/<sa>` of each endpoint. */
  trustDomain?: string;
}

/** An endpoint's workload identity, when the registry knows it. */
export interface EndpointIdentity {
  namespace: string;
  serviceAccount: string;
}

export function clusterTls(cluster: Cluster, secrets: readonly Secret[]): ClusterTls {
  const settings = cluster.tls;
  if (settings && (settings.mode === 'SIMPLE' || settings.mode === 'MUTUAL' || settings.mode === 'ISTIO_MUTUAL')) {
    return { explicit: resolveOrigination(cluster, settings, secrets) };
  }
  const chain = secretByName(secrets, 'default')?.certificateChain;
  if (!chain || !secretByName(secrets, 'ROOTCA')?.trustedCa) return {};
  const trustDomain = trustDomainOf(chain);
  return { auto: resolveOrigination(cluster, { mode: 'ISTIO_MUTUAL' }, secrets), ...(trustDomain ? { trustDomain } : {}) };
}

const trustDomains = new Map<string, string | undefined>();

/** The trust domain in our certificate's SPIFFE ID; parsed once per certificate. */
function trustDomainOf(chain: string): string | undefined {
  if (trustDomains.has(chain)) return trustDomains.get(chain);
  let domain: string | undefined;
  try {
    domain = /URI:spiffe:\/\/([^/,]+)\//.exec(new X509Certificate(chain).subjectAltName ?? '')?.[1];
  } catch {
    domain = undefined;
  }
  if (trustDomains.size > 16) trustDomains.clear(); // only the current and the previous certificate matter
  trustDomains.set(chain, domain);
  return domain;
}

const perIdentity = new WeakMap<Origination, Map<string, Origination>>();

/**
 * How to reach an endpoint: the cluster's own TLS, else auto mTLS for `istio` endpoints, which
 * checks that the peer is the endpoint's own workload (its service account's SPIFFE ID).
 */
export function originationFor(c: ClusterTls | undefined, tlsMode: string | undefined, workload?: EndpointIdentity): Origination | undefined {
  if (!c) return undefined;
  if (c.explicit) return c.explicit;
  if (tlsMode !== 'istio' || !c.auto) return undefined;
  if (!workload || !c.trustDomain) return c.auto;
  const id = `spiffe://${c.trustDomain}/ns/${workload.namespace}/sa/${workload.serviceAccount}`;
  let byId = perIdentity.get(c.auto);
  if (!byId) perIdentity.set(c.auto, (byId = new Map()));
  let o = byId.get(id);
  if (!o) byId.set(id, (o = { ...c.auto, subjectAltNames: [id] }));
  return o;
}

/** A certificate SAN matches an expected name exactly, or as a DNS wildcard (`*.example.com`). */
function sanMatches(certSans: string[], expected: string): boolean {
  for (const entry of certSans) {
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon);
    const value = entry.slice(colon + 1);
    if (value === expected) return true;
    if (kind === 'DNS' && value.startsWith('*.')) {
      const dot = expected.indexOf('.');
      if (dot > 0 && expected.slice(dot) === value.slice(1)) return true;
    }
  }
  return false;
}

export class SanMismatchError extends Error {
  readonly code = 'ERR_TLS_SAN_MISMATCH';
}

export function tlsConnectOptions(o: Origination, address: string, protocol: TlsProtocol): tls.ConnectionOptions {
  const opts: tls.ConnectionOptions = { rejectUnauthorized: !o.insecureSkipVerify };
  const alpn = protocol === 'http2' ? o.alpnH2 : o.alpn;
  if (alpn.length > 0) opts.ALPNProtocols = alpn;
  // Node refuses an IP address as SNI; the hostname check then uses the address.
  if (o.sni && net.isIP(o.sni) === 0) opts.servername = o.sni;
  if (o.ca) opts.ca = o.ca;
  if (o.cert && o.key) {
    opts.cert = o.cert;
    opts.key = o.key;
  }
  if (o.insecureSkipVerify) return opts;
  if (o.subjectAltNames.length > 0) {
    const expected = o.subjectAltNames;
    opts.checkServerIdentity = (_host, cert) => {
      const sans = (cert.subjectaltname ?? '').split(', ').filter((s) => s !== '');
      if (expected.some((e) => sanMatches(sans, e))) return undefined;
      return new SanMismatchError(`server certificate SANs [${sans.join(', ')}] match none of [${expected.join(', ')}]`);
    };
  } else if (o.mode === 'ISTIO_MUTUAL') {
    // Istio's SNI names the cluster, not the peer; without SANs only the mesh CA is checked.
    opts.checkServerIdentity = () => undefined;
  } else {
    const host = o.sni ?? address;
    opts.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(host, cert);
  }
  return opts;
}

const VERIFY_CODES = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_SAN_MISMATCH',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
]);

/** Envoy's transport failure reason for a failed handshake, in BoringSSL's words where they map. */
export function transportFailureReason(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (VERIFY_CODES.has(code)) return 'TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end';
  const message = err instanceof Error ? err.message : String(err);
  return `TLS_error:|${code || message}:TLS_error_end`;
}
