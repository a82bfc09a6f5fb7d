/**
 * TLS termination for filter chains that carry `tls` (gateway SIMPLE / MUTUAL servers, inbound
 * mTLS), with the certificates delivered in the config's secrets (SDS in Istio). Contexts are
 * built once per secrets list, so a rotated workload certificate (a new list) is used by new
 * connections while open ones keep theirs; a failed handshake or a client certificate outside
 * the allowed SANs closes the connection. The verified peer's identity is read once here.
 * Certificates named by file path (`file-cert:`, `file-root:`) are read from the pod's files.
 */
import { createHash } from 'node:crypto';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { DownstreamTls, Secret } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';
import { withFileMaterial } from './file-secrets.js';

const contexts = new WeakMap<readonly Secret[], WeakMap<DownstreamTls, SecureContext | null>>();

function secretNamed(snapshot: ConfigSnapshot, name: string | undefined): Secret | undefined {
  return name === undefined ? undefined : snapshot.config.secrets.find((s) => s.name === name);
}

/** The context for these settings, or null when the secrets cannot make one (bad PEM, missing key). */
export function secureContextFor(snapshot: ConfigSnapshot, tls: DownstreamTls): SecureContext | null {
  let bySecrets = contexts.get(snapshot.config.secrets);
  if (!bySecrets) {
    bySecrets = new WeakMap();
    contexts.set(snapshot.config.secrets, bySecrets);
  }
  let ctx = bySecrets.get(tls);
  if (ctx !== undefined) return ctx;
  try {
    const cert = withFileMaterial(tls.certificate, secretNamed(snapshot, tls.certificate));
    const ca = tls.validationContext === undefined ? undefined : withFileMaterial(tls.validationContext, secretNamed(snapshot, tls.validationContext));
    ctx = createSecureContext({
      cert: cert?.certificateChain,
      key: cert?.privateKey,
      ca: ca?.trustedCa,
      minVersion: tlsVersion(tls.minProtocolVersion) ?? 'TLSv1.2',
      maxVersion: tlsVersion(tls.maxProtocolVersion),
    });
  } catch {
    ctx = null;
  }
  bySecrets.set(tls, ctx);
  return ctx;
}

function tlsVersion(v: string | undefined): 'TLSv1.2' | 'TLSv1.3' | undefined {
  if (v === 'TLSV1_2' || v === 'TLSv1.2') return 'TLSv1.2';
  if (v === 'TLSV1_3' || v === 'TLSv1.3') return 'TLSv1.3';
  return undefined;
}

/**
 * The protocols to offer: ours that the client also offered, in our order. With none in common no
 * ALPN is negotiated and the handshake goes on (as Envoy does), rather than failing as OpenSSL
 * would: Istio clients offer `istio-peer-exchange`/`istio`, which an HTTP/1 inbound chain does not list.
 */
function alpnFor(tls: DownstreamTls, offered: readonly string[] | undefined): string[] | undefined {
  const ours = tls.alpn && tls.alpn.length > 0 ? tls.alpn : ['h2', 'http/1.1'];
  if (offered === undefined) return ours;
  const common = ours.filter((p) => offered.includes(p));
  return common.length > 0 ? common : undefined;
}

/** Terminates TLS on `socket`; resolves with the secure socket once the handshake (and SAN check) passed. */
export function terminateTls(socket: Socket, snapshot: ConfigSnapshot, tls: DownstreamTls, timeoutMs: number, offeredAlpn?: readonly string[]): Promise<TLSSocket | undefined> {
  const secureContext = secureContextFor(snapshot, tls);
  if (!secureContext) {
    socket.destroy();
    return Promise.resolve(undefined);
  }
  const wantsCert = tls.mode !== 'SIMPLE';
  const alpn = alpnFor(tls, offeredAlpn);
  const secure = new TLSSocket(socket, {
    isServer: true,
    secureContext,
    requestCert: wantsCert,
    // OPTIONAL_MUTUAL validates a certificate if one is presented, but does not require one.
    rejectUnauthorized: tls.mode === 'MUTUAL' || tls.mode === 'ISTIO_MUTUAL',
    ...(alpn ? { ALPNProtocols: alpn } : {}),
  });
  return new Promise((resolve) => {
    const fail = () => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      resolve(undefined);
    };
    const timer = setTimeout(fail, timeoutMs);
    secure.once('error', fail);
    secure.once('secure', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      if (wantsCert) recordVerification(secure);
      if (wantsCert && !peerAllowed(secure, tls)) return fail();
      resolve(secure);
    });
  });
}

/**
 * A server-side TLSSocket made without a tls.Server never judges the client's chain (Node does
 * that in tls.Server's handshake hook): `authorized` stays false and rejectUnauthorized is not
 * enforced. So take OpenSSL's verdict here, as tls.Server would.
 */
function recordVerification(secure: TLSSocket): void {
  const handle = (secure as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  const error = handle?.verifyError?.() ?? null;
  if (error) secure.authorizationError = error;
  else secure.authorized = true;
}

function peerAllowed(secure: TLSSocket, tls: DownstreamTls): boolean {
  const cert = secure.getPeerCertificate();
  const presented = cert && Object.keys(cert).length > 0;
  if (!presented) return tls.mode === 'OPTIONAL_MUTUAL';
  if ((tls.mode === 'MUTUAL' || tls.mode === 'ISTIO_MUTUAL') && !secure.authorized) return false;
  if (tls.mode === 'OPTIONAL_MUTUAL' && !secure.authorized) return false;
  const allowed = tls.subjectAltNames ?? [];
  if (allowed.length === 0) return true;
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^(URI|DNS|IP Address):/, ''));
  return allowed.some((a) => sans.includes(a));
}

export interface PeerIdentity {
  /** Istio's principal: the peer's SPIFFE ID without `spiffe://`. */
  principal: string | undefined;
  /**
   * This connection's element of `x-forwarded-client-cert`, as Envoy sets it with Istio's sidecar
   * inbound settings (subject, URI and DNS): `By=<our URI>;Hash=<sha256 of the peer cert>;Subject="";URI=<peer URI>`.
   */
  clientCertDetails: string | undefined;
}

const NO_PEER: PeerIdentity = { principal: undefined, clientCertDetails: undefined };

/** What the verified client certificate says; nothing when none was presented or it did not verify. */
export function peerIdentity(secure: TLSSocket): PeerIdentity {
  if (!secure.authorized) return NO_PEER;
  const peer = secure.getPeerX509Certificate();
  if (!peer) return NO_PEER;
  const peerSans = sanEntries(peer.subjectAltName);
  const uri = peerSans.find((e) => e.startsWith('URI:'))?.slice(4);
  const by = sanEntries(secure.getX509Certificate()?.subjectAltName).find((e) => e.startsWith('URI:'))?.slice(4);
  const parts: string[] = [];
  if (by) parts.push(`By=${xfccValue(by)}`);
  parts.push(`Hash=${createHash('sha256').update(peer.raw).digest('hex')}`);
  // Envoy writes the subject in RFC 2253 order (most specific first); Istio's certificates have none.
  parts.push(`Subject="${(peer.subject ?? '').split('\n').filter((l) => l !== '').reverse().join(',').replace(/"/g, '\\"')}"`);
  if (uri) parts.push(`URI=${xfccValue(uri)}`);
  for (const dns of peerSans.filter((e) => e.startsWith('DNS:'))) parts.push(`DNS=${xfccValue(dns.slice(4))}`);
  return {
    principal: uri?.startsWith('spiffe://') ? uri.slice('spiffe://'.length) : undefined,
    clientCertDetails: parts.join(';'),
  };
}

function sanEntries(text: string | undefined): string[] {
  return (text ?? '').split(', ').filter((e) => e !== '');
}

/** XFCC values with `,` `;` `=` or `"` are quoted (Envoy's rule). */
function xfccValue(v: string): string {
  return /[,;="]/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v;
}
