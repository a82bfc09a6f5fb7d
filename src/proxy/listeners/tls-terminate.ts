/**
 * TLS termination for filter chains that carry `tls` (gateway SIMPLE / MUTUAL servers, inbound
 * mTLS), with the certificates delivered in the config's secrets (SDS in Istio). Contexts are
 * built once per config object; a failed handshake or a client certificate outside the allowed
 * SANs closes the connection.
 */
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { DownstreamTls, Secret } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';

const contexts = new WeakMap<DownstreamTls, SecureContext | null>();

function secretNamed(snapshot: ConfigSnapshot, name: string | undefined): Secret | undefined {
  return name === undefined ? undefined : snapshot.config.secrets.find((s) => s.name === name);
}

/** The context for these settings, or null when the secrets cannot make one (bad PEM, missing key). */
export function secureContextFor(snapshot: ConfigSnapshot, tls: DownstreamTls): SecureContext | null {
  let ctx = contexts.get(tls);
  if (ctx !== undefined) return ctx;
  const cert = secretNamed(snapshot, tls.certificate);
  const ca = secretNamed(snapshot, tls.validationContext);
  try {
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
  contexts.set(tls, ctx);
  return ctx;
}

function tlsVersion(v: string | undefined): 'TLSv1.2' | 'TLSv1.3' | undefined {
  if (v === 'TLSV1_2' || v === 'TLSv1.2') return 'TLSv1.2';
  if (v === 'TLSV1_3' || v === 'TLSv1.3') return 'TLSv1.3';
  return undefined;
}

/** Terminates TLS on `socket`; resolves with the secure socket once the handshake (and SAN check) passed. */
export function terminateTls(socket: Socket, snapshot: ConfigSnapshot, tls: DownstreamTls, timeoutMs: number): Promise<TLSSocket | undefined> {
  const secureContext = secureContextFor(snapshot, tls);
  if (!secureContext) {
    socket.destroy();
    return Promise.resolve(undefined);
  }
  const wantsCert = tls.mode !== 'SIMPLE';
  const secure = new TLSSocket(socket, {
    isServer: true,
    secureContext,
    requestCert: wantsCert,
    // OPTIONAL_MUTUAL validates a certificate if one is presented, but does not require one.
    rejectUnauthorized: tls.mode === 'MUTUAL' || tls.mode === 'ISTIO_MUTUAL',
    ALPNProtocols: tls.alpn && tls.alpn.length > 0 ? tls.alpn : ['h2', 'http/1.1'],
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
      if (wantsCert && !peerAllowed(secure, tls)) return fail();
      resolve(secure);
    });
  });
}

function peerAllowed(secure: TLSSocket, tls: DownstreamTls): boolean {
  const cert = secure.getPeerCertificate();
  const presented = cert && Object.keys(cert).length > 0;
  if (!presented) return tls.mode === 'OPTIONAL_MUTUAL';
  if (tls.mode === 'OPTIONAL_MUTUAL' && !secure.authorized) return false;
  const allowed = tls.subjectAltNames ?? [];
  if (allowed.length === 0) return true;
  const sans = (cert.subjectaltname ?? '').split(',').map((s) => s.trim().replace(/^(URI|DNS|IP Address):/, ''));
  return allowed.some((a) => sans.includes(a));
}
