/**
 * RequestAuthentication (security.istio.io v1beta1 and v1): which end-user JWTs a workload
 * accepts. Schema from istio/api security/v1beta1/request_authentication.proto and its CRD rules;
 * semantic checks ported from ValidateRequestAuthentication / validateJwtRule in istio/istio
 * pkg/config/validation/validation.go.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z, duration, workloadSelector } from '../schema.js';
import { policyTargetRef, policyTargetRefs, checkPolicyScope } from './policy-scope.js';

/** RFC 7230 token characters: what a header name may contain. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const nonEmpty = (what: string) => z.string().min(1, `${what} must not be empty`);

const jwksUri = z.string().min(1, 'jwksUri must not be empty').max(2048).superRefine((uri, ctx) => {
  let scheme: string;
  try {
    scheme = new URL(uri).protocol;
  } catch {
    ctx.addIssue({ code: 'custom', message: `url must have scheme http:// or https://, got "${uri}"` });
    return;
  }
  if (scheme !== 'http:' && scheme !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `URI scheme "${scheme.slice(0, -1)}" is not supported: url must have scheme http:// or https://` });
  }
});

export const jwtHeader = z.strictObject({
  name: nonEmpty('location header name'),
  /** Stripped from the header value before the token is read, e.g. "Bearer ". */
  prefix: z.string().optional(),
});
export type JwtHeader = z.output<typeof jwtHeader>;

export const claimToHeader = z.strictObject({
  header: nonEmpty('outputClaimToHeaders header').regex(/^[-_A-Za-z0-9]+$/, 'header must contain only letters, digits, "-" and "_"'),
  claim: nonEmpty('outputClaimToHeaders claim'),
});
export type ClaimToHeader = z.output<typeof claimToHeader>;

export const jwtRule = z.strictObject({
  issuer: nonEmpty('issuer').optional(),
  audiences: z.array(nonEmpty('audience')).optional(),
  jwksUri: jwksUri.optional(),
  /** @deprecated proto field name accepted by the CRD (altName); read as jwksUri. */
  jwks_uri: jwksUri.optional(),
  /** An inline JSON Web Key Set. */
  jwks: z.string().optional(),
  fromHeaders: z.array(jwtHeader).optional(),
  fromParams: z.array(nonEmpty('location query')).optional(),
  fromCookies: z.array(nonEmpty('cookie name')).optional(),
  outputPayloadToHeader: z.string().optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(claimToHeader).optional(),
  /** JWKS fetch timeout in ms (Istio's default is 5s). */
  timeout: duration().optional(),
  spaceDelimitedClaims: z.array(nonEmpty('space delimited claim')).max(64).optional(),
}).superRefine((rule, ctx) => {
  const set = (['jwksUri', 'jwks_uri', 'jwks'] as const).filter((f) => rule[f] !== undefined);
  if (set.length > 1) ctx.addIssue({ code: 'custom', path: [set[1] as string], message: `only one of jwks or jwksUri can be set (found ${set.join(' and ')})` });
}).transform(({ jwks_uri, ...rule }) => (jwks_uri !== undefined && rule.jwksUri === undefined ? { ...rule, jwksUri: jwks_uri } : rule));
export type JwtRule = z.output<typeof jwtRule>;

export const requestAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetRef.optional(),
  targetRefs: policyTargetRefs.optional(),
  jwtRules: z.array(jwtRule).max(4096).optional(),
});
export type RequestAuthenticationSpec = z.output<typeof requestAuthenticationSpec>;

export function validateRequestAuthentication(spec: RequestAuthenticationSpec, ctx: ValidationContext): void {
  checkPolicyScope(spec, ctx);
  const issuers = new Map<string, number>();
  spec.jwtRules?.forEach((rule, i) => {
    const at = (...rest: (string | number)[]) => ['jwtRules', i, ...rest];
    if (!rule.issuer && !rule.jwksUri) ctx.error(at(), 'issuer or jwksUri must be non-empty string');
    if (rule.jwks !== undefined) checkJwks(rule.jwks, at('jwks'), ctx);
    rule.fromHeaders?.forEach((h, j) => {
      if (!HTTP_TOKEN.test(h.name)) ctx.warning(at('fromHeaders', j, 'name'), `"${h.name}" is not a valid HTTP header name, so no request can carry a token in it`);
    });
    if (rule.outputPayloadToHeader !== undefined && rule.outputPayloadToHeader !== '' && !HTTP_TOKEN.test(rule.outputPayloadToHeader)) {
      ctx.warning(at('outputPayloadToHeader'), `"${rule.outputPayloadToHeader}" is not a valid HTTP header name`);
    }
    if (rule.timeout !== undefined && !Number.isInteger(rule.timeout)) ctx.error(at('timeout'), 'only durations to ms precision are supported');
    if (rule.issuer) {
      // Istio does not reject this, but a token then matches several providers and which
      // one's keys and audiences apply is not defined.
      const first = issuers.get(rule.issuer);
      if (first !== undefined) ctx.warning(at('issuer'), `issuer "${rule.issuer}" is also used by jwtRules[${first}]; use one rule per issuer`);
      else issuers.set(rule.issuer, i);
    }
  });
}

/** Checks an inline JWKS parses (Istio uses jwk.Parse) and warns about private key material. */
function checkJwks(text: string, path: (string | number)[], ctx: ValidationContext): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's wording changes between Node versions; the position is not worth that.
    ctx.error(path, 'jwks parse error: not valid JSON (expected a JSON Web Key Set such as {"keys": [...]})');
    return;
  }
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(parsed)) {
    ctx.error(path, 'jwks parse error: expected a JSON object with "keys" or a single JSON Web Key');
    return;
  }
  const keys: unknown[] = 'keys' in parsed ? (Array.isArray(parsed.keys) ? parsed.keys : [undefined]) : [parsed];
  keys.forEach((key, i) => {
    if (!isObject(key) || typeof key.kty !== 'string') {
      ctx.error(path, `jwks parse error: key at index ${i} must be an object with a "kty" field`);
      return;
    }
    // Private RSA/EC/OKP keys carry "d"; "oct" keys are shared secrets. Envoy needs neither.
    if ('d' in key || key.kty === 'oct') {
      ctx.warning(path, `jwks key at index ${i} contains private key material; only public keys are used for verification`);
    }
  });
}

export const requestAuthenticationKind = defineKind({
  kind: 'RequestAuthentication',
  group: 'security.istio.io',
  versions: ['v1beta1', 'v1'],
  namespaced: true,
  spec: requestAuthenticationSpec,
  emptySpec: {},
  validate: validateRequestAuthentication,
});
