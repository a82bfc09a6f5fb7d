/**
 * JSON Web Key Sets: parsed once, keys imported once per algorithm, signatures checked as
 * jwt_verify_lib's verifyJwtWithoutTimeChecking does (a key whose `kid` or `alg` differs from the
 * token's is skipped, a key without them is tried, every candidate is tried until one verifies),
 * with jose doing the cryptography. A set remembers the tokens it verified (Envoy's jwt_cache),
 * so a client reusing its token costs no signature check; a new set (a refetch) starts empty,
 * so rotated-out keys stop verifying old tokens at once.
 */
import type { JWK } from 'jose';

type Jose = typeof import('jose');
let jose: Promise<Jose> | undefined;
/** Loaded on the first key a proxy imports: a sidecar without RequestAuthentication never pays its ~2 MB. */
const loadJose = (): Promise<Jose> => (jose ??= import('jose'));
import { JwtError, type Jwt } from './token.js';

/** Envoy's default jwt_cache size. */
const VERIFIED_CACHE_SIZE = 100;

interface Key {
  readonly kty: string;
  /** '' when the key has none: it is then tried for any token. */
  readonly kid: string;
  readonly alg: string;
  /** Public members only: a private `d` in a published set must never be what is imported. */
  readonly jwk: JWK;
  /** Imported once per algorithm; null when the key cannot serve that algorithm. */
  readonly imported: Map<string, Promise<Awaited<ReturnType<Jose['importJWK']>> | null>>;
}

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'k'] as const;

/** The key type an algorithm needs (verify.cc dispatches on kty, then on the alg's prefix). */
function ktyFor(alg: string): string {
  if (alg.startsWith('ES')) return 'EC';
  if (alg.startsWith('RS') || alg.startsWith('PS')) return 'RSA';
  if (alg.startsWith('HS')) return 'oct';
  return alg === 'EdDSA' ? 'OKP' : '';
}

export class KeySet {
  private readonly keys: readonly Key[];
  private readonly verified = new Map<string, true>();

  private constructor(keys: Key[]) {
    this.keys = keys;
  }

  /**
   * Parses JWKS text. Keys Envoy could not use (unknown kty, missing members, an OKP curve other
   * than Ed25519) are left out; a set with none left is an error, as Envoy's JwksNoValidKeys.
   */
  static parse(text: string): KeySet | { error: string } {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return { error: 'Jwks is an invalid JSON' };
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { error: 'Jwks is an invalid JSON' };
    const record = doc as Record<string, unknown>;
    // A bare JWK is accepted as a set of one, as Istio's validation accepts it.
    const list: unknown[] = 'keys' in record ? (Array.isArray(record.keys) ? record.keys : []) : [record];
    const keys = list.map(toKey).filter((k): k is Key => k !== undefined);
    return keys.length === 0 ? { error: JwtError.noValidKeys } : new KeySet(keys);
  }

  get size(): number {
    return this.keys.length;
  }

  /** True when some key could serve the token's kid (used to decide a refetch). */
  hasKeyFor(jwt: Jwt): boolean {
    return this.keys.some((k) => matches(k, jwt));
  }

  /**
   * undefined when a key verifies the signature, else Envoy's status text: no key with the
   * token's kid and alg (`Jwks doesn't have key...`) or none that verifies (`Jwt verification fails`).
   */
  verify(jwt: Jwt): Promise<string | undefined> | undefined {
    if (this.verified.has(jwt.token)) {
      // Refresh its place in the LRU order.
      this.verified.delete(jwt.token);
      this.verified.set(jwt.token, true);
      return undefined;
    }
    return this.verifySignature(jwt);
  }

  private async verifySignature(jwt: Jwt): Promise<string | undefined> {
    let matched = false;
    const [protectedHeader, payload] = jwt.signingInput.split('.') as [string, string];
    const signature = Buffer.from(jwt.signature).toString('base64url');
    for (const key of this.keys) {
      if (!matches(key, jwt)) continue;
      matched = true;
      if (key.kty !== ktyFor(jwt.alg)) continue;
      if (jwt.alg === 'EdDSA' && jwt.signature.length !== 64) return JwtError.ed25519WrongLength;
      const imported = await importFor(key, jwt.alg);
      if (imported === null) continue;
      try {
        await (await loadJose()).flattenedVerify({ protected: protectedHeader, payload, signature }, imported, { algorithms: [jwt.alg] });
      } catch {
        continue;
      }
      this.remember(jwt.token);
      return undefined;
    }
    return matched ? JwtError.verificationFails : JwtError.kidAlgMismatch;
  }

  private remember(token: string): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, true);
  }
}

function matches(key: Key, jwt: Jwt): boolean {
  if (jwt.kid !== '' && key.kid !== '' && key.kid !== jwt.kid) return false;
  return key.alg === '' || key.alg === jwt.alg;
}

function toKey(raw: unknown): Key | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const kty = r.kty;
  if (typeof kty !== 'string') return undefined;
  const need: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], oct: ['k'], OKP: ['crv', 'x'] };
  const members = need[kty];
  if (!members || members.some((m) => typeof r[m] !== 'string')) return undefined;
  if (kty === 'OKP' && r.crv !== 'Ed25519') return undefined;
  const jwk: Record<string, string> = {};
  for (const m of PUBLIC_MEMBERS) if (typeof r[m] === 'string') jwk[m] = r[m];
  return {
    kty,
    kid: typeof r.kid === 'string' ? r.kid : '',
    alg: typeof r.alg === 'string' ? r.alg : '',
    jwk: jwk as JWK,
    imported: new Map(),
  };
}

function importFor(key: Key, alg: string): Promise<Awaited<ReturnType<Jose['importJWK']>> | null> {
  let p = key.imported.get(alg);
  if (p === undefined) {
    p = loadJose().then((j) => j.importJWK(key.jwk, alg)).catch(() => null);
    key.imported.set(alg, p);
  }
  return p;
}
