/**
 * The mesh's certificate authority (istiod's CA): signs workload certificates for the identity a
 * proxy's credential covers, never for what its request asks. Its signing key is either a
 * self-signed root created once in the control plane's state directory (shared by every replica
 * started on it), or Istio's plugged-in `cacerts` (an intermediate under an organisation's root).
 */
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { toPem } from '../lib/der.js';
import { CsrError, readCsr } from './csr.js';
import {
  KEY_USAGE, authorityKeyId, basicConstraints, buildCertificate, extKeyUsageServerClient, issuerInfo, keyUsage, organizationName,
  serverSans, uriSan, type IssuerInfo,
} from './x509.js';

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`, Istio's workload identity. */
export function spiffeId(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

export interface IssuedCertificate {
  /** PEM: the workload certificate, then the intermediates up to (not including) the root. */
  certificateChain: string;
  /** PEM: the root certificates peers are verified against (the `ROOTCA` secret). */
  trustBundle: string;
  /** ISO time the workload certificate expires. */
  notAfter: string;
}

/** A request the CA will not sign: it names another identity, or it is not a valid request. */
export class SigningRefused extends Error {}

/** Istio's default workload certificate lifetime (DEFAULT_WORKLOAD_CERT_TTL). */
export const DEFAULT_WORKLOAD_CERT_TTL_MS = 24 * 3600_000;
/** Istio's MAX_WORKLOAD_CERT_TTL. */
export const MAX_WORKLOAD_CERT_TTL_MS = 90 * 24 * 3600_000;
/** Issued certificates start a minute early, so a peer whose clock is slightly behind accepts them. */
const CLOCK_SKEW_MS = 60_000;

export interface CaMaterial {
  /** The signing certificate: the self-signed root, or the plugged-in intermediate (ca-cert.pem). */
  cert: X509Certificate;
  key: KeyObject;
  /** Certificates between the signing certificate and the root, excluding both. */
  intermediates: X509Certificate[];
  roots: X509Certificate[];
  source: 'self-signed' | 'plugged-in';
}

export class CertificateAuthority {
  readonly source: CaMaterial['source'];
  /** PEM of the root certificates: the mesh trust bundle. */
  readonly trustBundle: string;
  readonly roots: readonly X509Certificate[];
  readonly signingCertificate: X509Certificate;
  /** Equal for two CAs that sign with the same chain under the same roots: what a reload compares. */
  readonly identity: string;
  readonly #key: KeyObject;
  readonly #issuer: IssuerInfo;
  /** Appended to every leaf: the signing certificate (unless it is the root) and its intermediates. */
  readonly #chainTail: string;
  readonly #notAfter: Date;

  constructor(material: CaMaterial) {
    this.source = material.source;
    this.signingCertificate = material.cert;
    this.#key = material.key;
    this.#issuer = issuerInfo(material.cert);
    const isRoot = material.roots.some((r) => r.fingerprint256 === material.cert.fingerprint256);
    this.#chainTail = [...(isRoot ? [] : [material.cert]), ...material.intermediates].map((c) => c.toString()).join('');
    this.roots = material.roots;
    this.trustBundle = material.roots.map((c) => c.toString()).join('');
    this.identity = [material.cert, ...material.intermediates, ...material.roots].map((c) => c.fingerprint256).join(',');
    this.#notAfter = new Date(material.cert.validTo);
  }

  /**
   * Signs a PEM CSR for `identity`, valid for `ttlMs`. The certificate carries the identity and
   * the request's public key only; a request naming any other identity is refused.
   */
  signCsr(csrPem: string, identity: WorkloadIdentity, ttlMs = DEFAULT_WORKLOAD_CERT_TTL_MS, now = new Date()): IssuedCertificate {
    let request;
    try {
      request = readCsr(csrPem);
    } catch (err) {
      throw new SigningRefused(err instanceof CsrError ? err.message : String(err));
    }
    const id = spiffeId(identity);
    const others = [...request.uris.filter((u) => u !== id), ...request.dnsNames.map((d) => `DNS:${d}`)];
    if (others.length > 0) {
      throw new SigningRefused(`the request asks for ${others.join(', ')}, but this proxy's credential covers only ${id}`);
    }
    return this.issue(request.spki, identity, new Date(now.getTime() - CLOCK_SKEW_MS), new Date(now.getTime() + ttlMs));
  }

  /** Issues a workload certificate for a public key (SPKI DER); the validity is capped at the CA's own. */
  issue(spki: Buffer, identity: WorkloadIdentity, notBefore: Date, notAfter: Date): IssuedCertificate {
    return this.#issue(spki, uriSan(spiffeId(identity)), notBefore, notAfter);
  }

  /**
   * The control plane's own serving certificate (istiod's on 15012): DNS names and IP addresses
   * instead of a workload identity, under the root proxies already trust. No CSR reaches this:
   * only the control plane calls it, with names it chose.
   */
  issueWithNames(spki: Buffer, names: { dns: readonly string[]; ips: readonly string[]; uris?: readonly string[] }, notBefore: Date, notAfter: Date): IssuedCertificate {
    return this.#issue(spki, serverSans(names), notBefore, notAfter);
  }

  #issue(spki: Buffer, san: Buffer, notBefore: Date, notAfter: Date): IssuedCertificate {
    const end = notAfter > this.#notAfter ? this.#notAfter : notAfter;
    const der = buildCertificate({
      subject: organizationName(undefined),
      issuer: this.#issuer.subject,
      publicKey: spki,
      notBefore,
      notAfter: end,
      extensions: [
        keyUsage(KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment),
        extKeyUsageServerClient(),
        basicConstraints(false),
        authorityKeyId(this.#issuer.keyId),
        san,
      ],
      signingKey: this.#key,
    });
    return { certificateChain: toPem(der, 'CERTIFICATE') + this.#chainTail, trustBundle: this.trustBundle, notAfter: end.toISOString() };
  }
}

/** Checks that a private key and a certificate belong together. */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  const a = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const b = cert.publicKey.export({ type: 'spki', format: 'der' });
  return a.equals(b);
}
