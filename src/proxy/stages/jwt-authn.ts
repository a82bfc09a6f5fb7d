/**
 * End-user authentication (RequestAuthentication), with the semantics of the jwt_authn config
 * istiod builds (policy_applier.go): each rule is an Envoy provider that looks only at its own
 * token locations, and the requirement is "any provider succeeds, or every provider's token is
 * either missing or valid". So: no token anywhere -> the request goes on without a principal;
 * a rule whose tokens all verify -> success with that token's claims; otherwise the first
 * failing rule's reason is the answer, 401 (403 for a wrong audience, as Envoy). A token must
 * carry the rule's issuer (`Jwt issuer is not configured` otherwise); when a rule finds several
 * tokens, all must verify (Envoy's rule against smuggling a bad token beside a good one).
 */
import type { JwtRule } from '../../proxy-config/index.js';
import { KeySet } from '../jwt/jwks.js';
import type { JwksRegistry, RemoteJwks } from '../jwt/remote-jwks.js';
import { extractTokens, locationsOf, type FoundToken, type Locations, type TokenCarrier } from '../jwt/locations.js';
import { audienceChecker, checkTime, JwtError, parseJwt, type Jwt } from '../jwt/token.js';

/** `scope` and `permission` are always space-delimited (Istio's buildSpaceDelimitedClaims). */
const ALWAYS_SPACE_DELIMITED = ['permission', 'scope'];

export interface CompiledRule {
  readonly rule: JwtRule;
  readonly issuer: string;
  readonly locations: Locations;
  readonly audienceAllowed: (audiences: readonly string[]) => boolean;
  /** Inline keys (or why they are unusable), or the remote set the proxy fetches. */
  readonly keys: KeySet | { error: string } | RemoteJwks;
  readonly spaceDelimited: readonly string[];
}

export interface CompiledJwtAuthn {
  readonly rules: readonly CompiledRule[];
  /** Output headers of every rule: a client must not be able to send them pre-filled. */
  readonly outputHeaders: readonly string[];
}

export type JwtOutcome =
  | { kind: 'missing' }
  | { kind: 'verified'; rule: CompiledRule; jwt: Jwt; tokens: readonly FoundToken[] }
  | { kind: 'denied'; status: 401 | 403; message: string };

const MISSING: JwtOutcome = { kind: 'missing' };

export function compileJwtAuthn(rules: readonly JwtRule[], registry: JwksRegistry): CompiledJwtAuthn {
  const compiled = rules.filter((r) => typeof r === 'object' && r !== null).map((rule) => compileRule(rule, registry));
  const outputHeaders = new Set<string>();
  for (const { rule } of compiled) {
    if (typeof rule.outputPayloadToHeader === 'string' && rule.outputPayloadToHeader !== '') outputHeaders.add(rule.outputPayloadToHeader.toLowerCase());
    for (const c of Array.isArray(rule.outputClaimToHeaders) ? rule.outputClaimToHeaders : []) {
      if (typeof c?.header === 'string' && c.header !== '') outputHeaders.add(c.header.toLowerCase());
    }
  }
  return { rules: compiled, outputHeaders: [...outputHeaders] };
}

function compileRule(rule: JwtRule, registry: JwksRegistry): CompiledRule {
  const issuer = typeof rule.issuer === 'string' ? rule.issuer : '';
  const timeoutMs = typeof rule.jwksFetchTimeoutMs === 'number' && rule.jwksFetchTimeoutMs > 0 ? rule.jwksFetchTimeoutMs : 5000;
  let keys: CompiledRule['keys'];
  if (typeof rule.jwks === 'string' && rule.jwks !== '') keys = KeySet.parse(rule.jwks);
  else if (typeof rule.jwksUri === 'string' && rule.jwksUri !== '') keys = registry.get({ uri: rule.jwksUri }, timeoutMs);
  else if (issuer !== '') keys = registry.get({ issuer }, timeoutMs);
  else keys = { error: JwtError.noValidKeys };
  const extra = Array.isArray(rule.spaceDelimitedClaims) ? rule.spaceDelimitedClaims.filter((c) => typeof c === 'string') : [];
  return {
    rule,
    issuer,
    locations: locationsOf(rule),
    audienceAllowed: audienceChecker(Array.isArray(rule.audiences) ? rule.audiences.filter((a) => typeof a === 'string') : []),
    keys,
    spaceDelimited: [...new Set([...ALWAYS_SPACE_DELIMITED, ...extra])],
  };
}

/** Synchronous when no rule finds a token, so requests without one cost no promise. */
export function authenticate(authn: CompiledJwtAuthn, carrier: TokenCarrier, nowS: number): JwtOutcome | Promise<JwtOutcome> {
  const found = authn.rules.map((r) => extractTokens(r.locations, carrier));
  if (found.every((tokens) => tokens.length === 0)) return MISSING;
  return decide(authn, found, nowS);
}

async function decide(authn: CompiledJwtAuthn, found: FoundToken[][], nowS: number): Promise<JwtOutcome> {
  let firstFailure: string | undefined;
  for (let i = 0; i < authn.rules.length; i++) {
    const rule = authn.rules[i] as CompiledRule;
    const tokens = found[i] as FoundToken[];
    if (tokens.length === 0) continue;
    let first: Jwt | undefined;
    let failure: string | undefined;
    for (const t of tokens) {
      const result = await verifyToken(rule, t.token, nowS);
      if (typeof result === 'string') {
        failure = result;
        break;
      }
      first ??= result;
    }
    if (failure === undefined && first) return { kind: 'verified', rule, jwt: first, tokens };
    firstFailure ??= failure;
  }
  if (firstFailure === undefined) return MISSING;
  return { kind: 'denied', status: firstFailure === JwtError.audienceNotAllowed ? 403 : 401, message: firstFailure };
}

/** One token against one rule, in Envoy's order: parse, issuer, time, audience, then the signature. */
export async function verifyToken(rule: CompiledRule, token: string, nowS: number): Promise<Jwt | string> {
  const jwt = parseJwt(token);
  if (typeof jwt === 'string') return jwt;
  if (rule.issuer !== '' && jwt.iss !== rule.issuer) return JwtError.unknownIssuer;
  const timeError = checkTime(jwt, nowS);
  if (timeError) return timeError;
  if (!rule.audienceAllowed(jwt.audiences)) return JwtError.audienceNotAllowed;
  const keys = rule.keys;
  if (keys instanceof KeySet) return (await keys.verify(jwt)) ?? jwt;
  if ('error' in keys) return keys.error;
  const current = await keys.current();
  if (typeof current === 'string') return current;
  const error = await current.verify(jwt);
  if (error === undefined) return jwt;
  if (error !== JwtError.kidAlgMismatch) return error;
  // A kid no cached key has: maybe the issuer rotated its keys; look once more.
  const fresh = await keys.refetchForUnknownKid();
  if (!fresh) return error;
  return (await fresh.verify(jwt)) ?? jwt;
}

/** `iss/sub`, Istio's request.auth.principal; undefined unless the token has both. */
export function requestPrincipal(jwt: Jwt): string | undefined {
  return jwt.iss !== '' && jwt.sub !== '' ? `${jwt.iss}/${jwt.sub}` : undefined;
}

/** The payload as claim matches and authorization read it: space-delimited claims become lists. */
export function normalizedClaims(rule: CompiledRule, jwt: Jwt): Record<string, unknown> {
  let claims = jwt.payload;
  for (const name of rule.spaceDelimited) {
    const v = claims[name];
    if (typeof v !== 'string' || !Object.hasOwn(claims, name)) continue;
    if (claims === jwt.payload) claims = { ...jwt.payload };
    claims[name] = v.split(' ').filter((s) => s !== '');
  }
  return claims;
}

/** `request.auth.audiences`: the token's `aud`, as a list. */
export function requestAudiences(claims: Record<string, unknown> | undefined): string[] {
  const aud = claims?.aud;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** `request.auth.presenter`: the token's `azp`. */
export function requestPresenter(claims: Record<string, unknown> | undefined): string | undefined {
  const azp = claims?.azp;
  return typeof azp === 'string' ? azp : undefined;
}

/**
 * A claim as a header value (AuthenticatorImpl::addJWTClaimToHeader): strings as they are,
 * booleans as `true`/`false`, non-negative integers as integers and other numbers as C's `%f`;
 * objects, lists and missing claims give no header. `a.b` reads a nested claim.
 */
export function claimHeaderValue(payload: Record<string, unknown>, claim: string): string | undefined {
  let cur: unknown = payload;
  for (const key of claim.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (typeof cur === 'string') return cur === '' ? undefined : cur;
  if (typeof cur === 'boolean') return cur ? 'true' : 'false';
  if (typeof cur === 'number' && Number.isFinite(cur)) {
    return cur >= 0 && Number.isInteger(cur) && cur < 2 ** 64 ? BigInt(cur).toString() : cur.toFixed(6);
  }
  return undefined;
}
