/**
 * A JWT as Envoy's jwt_authn reads it (google/jwt_verify_lib jwt.cc): three base64url sections,
 * a JSON header whose `alg` is one Envoy implements (so `none` is refused before any key is
 * looked at), a JSON payload whose registered claims have the right types, then the time window
 * with Envoy's 60 s clock skew and the audience check. Failures carry Envoy's status strings,
 * which are the 401 body the client reads.
 */

/** Envoy's texts for the failures a client can cause (jwt_verify_lib status.cc). */
export const JwtError = {
  missing: 'Jwt is missing',
  notYetValid: 'Jwt not yet valid',
  expired: 'Jwt is expired',
  badFormat: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  headerBadBase64: 'Jwt header is an invalid Base64url encoded',
  headerBadJson: 'Jwt header is an invalid JSON',
  headerBadAlg: 'Jwt header [alg] field is required and must be a string',
  algNotImplemented: 'Jwt header [alg] is not supported',
  headerBadKid: 'Jwt header [kid] field is not a string',
  payloadBadBase64: 'Jwt payload is an invalid Base64url encoded',
  payloadBadJson: 'Jwt payload is an invalid JSON',
  issNotString: 'Jwt payload [iss] field is not a string',
  subNotString: 'Jwt payload [sub] field is not a string',
  iatNotInteger: 'Jwt payload [iat] field is not an integer',
  iatOutOfRange: 'Jwt payload [iat] field is not a positive 64 bit integer',
  nbfNotInteger: 'Jwt payload [nbf] field is not an integer',
  nbfOutOfRange: 'Jwt payload [nbf] field is not a positive 64 bit integer',
  expNotInteger: 'Jwt payload [exp] field is not an integer',
  expOutOfRange: 'Jwt payload [exp] field is not a positive 64 bit integer',
  jtiNotString: 'Jwt payload [jti] field is not a string',
  audNotString: 'Jwt payload [aud] field is not a string or string list',
  signatureBadBase64: 'Jwt signature is an invalid Base64url encoded',
  ed25519WrongLength: 'Jwt ED25519 signature is wrong length',
  unknownIssuer: 'Jwt issuer is not configured',
  audienceNotAllowed: 'Audiences in Jwt are not allowed',
  verificationFails: 'Jwt verification fails',
  kidAlgMismatch: "Jwks doesn't have key to match kid or alg from Jwt",
  noValidKeys: "Jwks doesn't have any valid public key",
  fetchFailed: 'Jwks remote fetch is failed',
} as const;

/** Envoy's kClockSkewInSecond. */
export const CLOCK_SKEW_S = 60;

const IMPLEMENTED_ALGS = new Set(['ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA']);
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

export interface Jwt {
  /** The token as extracted, the cache key. */
  readonly token: string;
  readonly alg: string;
  /** '' when the header has none. */
  readonly kid: string;
  /** `header.payload` as sent: what the signature covers. */
  readonly signingInput: string;
  /** The payload section as sent (outputPayloadToHeader forwards it as is). */
  readonly payloadSection: string;
  readonly signature: Uint8Array;
  readonly payload: Record<string, unknown>;
  /** '' when absent. */
  readonly iss: string;
  readonly sub: string;
  readonly audiences: readonly string[];
  /** 0 when absent. */
  readonly nbf: number;
  readonly exp: number;
}

/** Decodes base64url strictly (absl's WebSafeBase64Unescape): Buffer.from alone skips bad characters. */
function decodeBase64Url(s: string): Buffer | undefined {
  if (!BASE64URL.test(s)) return undefined;
  const bare = s.replace(/=+$/, '');
  if (bare.length % 4 === 1) return undefined;
  return Buffer.from(bare, 'base64url');
}

function jsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A non-negative integer claim (StructUtils::GetUInt64): absent is 0. */
function uintClaim(payload: Record<string, unknown>, name: string, notInteger: string, outOfRange: string): number | string {
  if (!Object.hasOwn(payload, name)) return 0;
  const v = payload[name];
  if (typeof v !== 'number') return notInteger;
  if (v < 0) return outOfRange;
  return Math.trunc(v);
}

function stringClaim(payload: Record<string, unknown>, name: string, error: string): string | { error: string } {
  if (!Object.hasOwn(payload, name)) return '';
  const v = payload[name];
  return typeof v === 'string' ? v : { error };
}

/** Parses a token; a string result is Envoy's status text for why it is not a JWT. */
export function parseJwt(token: string): Jwt | string {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) return JwtError.badFormat;
  const [h, p, s] = parts as [string, string, string];
  const headerBytes = decodeBase64Url(h);
  if (!headerBytes) return JwtError.headerBadBase64;
  const header = jsonObject(headerBytes);
  if (!header) return JwtError.headerBadJson;
  const alg = header.alg;
  if (typeof alg !== 'string') return JwtError.headerBadAlg;
  if (!IMPLEMENTED_ALGS.has(alg)) return JwtError.algNotImplemented;
  const kid = header.kid ?? '';
  if (typeof kid !== 'string') return JwtError.headerBadKid;
  const payloadBytes = decodeBase64Url(p);
  if (!payloadBytes) return JwtError.payloadBadBase64;
  const payload = jsonObject(payloadBytes);
  if (!payload) return JwtError.payloadBadJson;
  const iss = stringClaim(payload, 'iss', JwtError.issNotString);
  if (typeof iss !== 'string') return iss.error;
  const sub = stringClaim(payload, 'sub', JwtError.subNotString);
  if (typeof sub !== 'string') return sub.error;
  const iat = uintClaim(payload, 'iat', JwtError.iatNotInteger, JwtError.iatOutOfRange);
  if (typeof iat === 'string') return iat;
  const nbf = uintClaim(payload, 'nbf', JwtError.nbfNotInteger, JwtError.nbfOutOfRange);
  if (typeof nbf === 'string') return nbf;
  const exp = uintClaim(payload, 'exp', JwtError.expNotInteger, JwtError.expOutOfRange);
  if (typeof exp === 'string') return exp;
  const jti = stringClaim(payload, 'jti', JwtError.jtiNotString);
  if (typeof jti !== 'string') return jti.error;
  const audiences = audienceList(payload);
  if (!audiences) return JwtError.audNotString;
  const signature = decodeBase64Url(s);
  if (!signature) return JwtError.signatureBadBase64;
  return { token, alg, kid, signingInput: `${h}.${p}`, payloadSection: p, signature, payload, iss, sub, audiences, nbf, exp };
}

/** `aud` as a string or a list of strings (StructUtils::GetStringList); undefined when it is neither. */
function audienceList(payload: Record<string, unknown>): string[] | undefined {
  if (!Object.hasOwn(payload, 'aud')) return [];
  const aud = payload.aud;
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud as string[];
  return undefined;
}

/** Jwt::verifyTimeConstraint: the error text, or undefined when the token is within its window. */
export function checkTime(jwt: Jwt, nowS: number, skewS = CLOCK_SKEW_S): string | undefined {
  if (nowS + skewS < jwt.nbf) return JwtError.notYetValid;
  if (jwt.exp !== 0 && nowS > jwt.exp + skewS) return JwtError.expired;
  return undefined;
}

/**
 * CheckAudience: the scheme (`http://`, `https://`) and one trailing slash are ignored on both
 * sides, since users add them by mistake; an empty configured list accepts any token.
 */
export function audienceChecker(configured: readonly string[]): (audiences: readonly string[]) => boolean {
  if (configured.length === 0) return () => true;
  const allowed = new Set(configured.map(sanitizeAudience));
  return (audiences) => audiences.some((a) => allowed.has(sanitizeAudience(a)));
}

function sanitizeAudience(aud: string): string {
  let a = aud;
  if (a.startsWith('http://')) a = a.slice(7);
  else if (a.startsWith('https://')) a = a.slice(8);
  if (a.endsWith('/')) a = a.slice(0, -1);
  return a;
}
