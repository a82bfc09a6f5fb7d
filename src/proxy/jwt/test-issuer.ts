/**
 * For the JWT tests: a token issuer with real keys (made with jose at test time), its JWKS, and
 * a JWKS server on loopback that can rotate keys, fail, and count its fetches. Nothing here is a
 * mock; the proxy verifies what these sign exactly as it would an identity provider's tokens.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey | Uint8Array;
  /** The public JWK as a JWKS lists it (kid and alg set). */
  jwk: JWK;
}

export async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  if (alg.startsWith('HS')) {
    const secret = new Uint8Array(32).map((_, i) => (i * 37 + kid.length) & 0xff);
    return { kid, alg, privateKey: secret, jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid, alg } };
  }
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

export function jwks(...keys: SigningKey[]): string {
  return JSON.stringify({ keys: keys.map((k) => k.jwk) });
}

/** A signed token; `exp` defaults to an hour from now, `iat` to now. Header fields may be overridden. */
export function sign(key: SigningKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** An unsigned token (`alg: none`), as an attacker would send it. */
export function unsigned(claims: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}

export interface JwksServer {
  url: string;
  /** The JWKS served from now on. */
  keys: string;
  /** When set, every fetch answers this status. */
  failWith: number | undefined;
  fetches: number;
  /** OpenID discovery document at /.well-known/openid-configuration pointing at /jwks. */
  readonly issuer: string;
  close(): Promise<void>;
}

export async function startJwksServer(initial: string): Promise<JwksServer> {
  const state = { keys: initial, failWith: undefined as number | undefined, fetches: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
      return;
    }
    state.fetches++;
    if (state.failWith !== undefined) {
      res.writeHead(state.failWith);
      res.end('unavailable');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(state.keys);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/jwks`,
    issuer: base,
    get keys() {
      return state.keys;
    },
    set keys(v: string) {
      state.keys = v;
    },
    get failWith() {
      return state.failWith;
    },
    set failWith(v: number | undefined) {
      state.failWith = v;
    },
    get fetches() {
      return state.fetches;
    },
    set fetches(v: number) {
      state.fetches = v;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
