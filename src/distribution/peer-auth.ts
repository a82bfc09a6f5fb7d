/**
 * Client-certificate authentication on the push stream, as istiod does it on 15012: a proxy that
 * already holds a workload certificate presents it in the TLS handshake, and its SPIFFE identity
 * (spiffe://<trust domain>/ns/<ns>/sa/<sa>) stands in for the token. The handshake itself never
 * fails on a client certificate (the server asks for one without requiring it, so a proxy on its
 * first connection can still come with only its token); the verdict is taken here, at the hello,
 * where the refusal can be an UNAUTHENTICATED message that says why instead of a bare TLS alert.
 *
 * Server side only: the proxy never imports this file.
 */
import type { Http2Session } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ProxyNode } from '../proxy-config/index.js';

/** How a proxy proved who it is; shown per proxy in /debug/syncz and `weft proxy-status`. */
export type AuthMethod = 'token' | 'certificate';

export interface SpiffeIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/**
 * What the session's TLS handshake says about the proxy: nothing (cleartext, or no certificate
 * sent), a certificate that does not hold (another CA, expired, no SPIFFE identity), or an identity.
 */
export type PeerCredential =
  | { kind: 'none' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'certificate'; uri: string; identity: SpiffeIdentity };

/** Server TLS options that ask proxies for a certificate chained to `roots` without requiring one. */
export function clientCertificateOptions(roots: string): { ca: string; requestCert: true; rejectUnauthorized: false } {
  return { ca: roots, requestCert: true, rejectUnauthorized: false };
}

export function peerCredential(session: Http2Session | undefined): PeerCredential {
  const socket = session?.socket as Partial<TLSSocket> | undefined;
  if (!socket || typeof socket.getPeerX509Certificate !== 'function') return { kind: 'none' };
  const cert = socket.getPeerX509Certificate();
  if (!cert) return { kind: 'none' };
  // OpenSSL verified the chain against the roots in the server's `ca` (validity dates included).
  if (socket.authorized !== true) return { kind: 'invalid', reason: `its certificate is not accepted (${String(socket.authorizationError ?? 'not verified')})` };
  const uris = sanUris(cert.subjectAltName ?? '').filter((u) => u.startsWith('spiffe://'));
  if (uris.length !== 1) return { kind: 'invalid', reason: `its certificate carries ${uris.length} SPIFFE identities, not one` };
  const uri = uris[0] as string;
  const identity = parseSpiffe(uri);
  if (!identity) return { kind: 'invalid', reason: `its certificate's identity ${uri} is not spiffe://<trust domain>/ns/<namespace>/sa/<service account>` };
  return { kind: 'certificate', uri, identity };
}

/** Why the identity does not cover the node the hello claims, or undefined when it does. */
export function identityMismatch(identity: SpiffeIdentity, node: ProxyNode): string | undefined {
  if (identity.namespace === node.namespace && identity.serviceAccount === node.serviceAccount) return undefined;
  return `its certificate is for namespace ${identity.namespace}, service account ${identity.serviceAccount}, but it claims namespace ${node.namespace}, service account ${node.serviceAccount}`;
}

export function parseSpiffe(uri: string): SpiffeIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  return { trustDomain: m[1] as string, namespace: m[2] as string, serviceAccount: m[3] as string };
}

/**
 * The URIs in Node's subjectAltName text (`DNS:a, URI:spiffe://x, ...`). Node quotes an entry
 * that holds a comma or quote as a JSON string, so a crafted URI cannot smuggle in a second one.
 */
export function sanUris(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of text.matchAll(re)) {
    const raw = m[1] ?? '';
    if (!raw.startsWith('"')) {
      out.push(raw);
      continue;
    }
    try {
      out.push(JSON.parse(raw) as string);
    } catch {
      out.push(raw); // unparseable: kept as is, so it fails the SPIFFE pattern rather than vanishing
    }
  }
  return out;
}
