/**
 * The jwt-authn step of the request chain: adapts the stage (stages/jwt-authn.ts) to the
 * exchange. With no jwt-authn filter on the listener it returns at once (one WeakMap lookup per
 * request). Otherwise it strips client-sent copies of the rules' output headers, skips CORS
 * preflights (Istio sets bypass_cors_preflight), and on success records the claims and the
 * request principal and rewrites the request as the rule says: output headers added, the token
 * removed unless forwardOriginalToken. A failure is Envoy's local reply: 401 (403 for a wrong
 * audience) with the status text as body and a `www-authenticate: Bearer realm="<uri>"` header.
 */
import type { HttpConnectionManager, JwtRule } from '../../proxy-config/index.js';
import type { Exchange } from '../http/exchange.js';
import { sendLocalReply } from '../http/respond.js';
import { authenticate, claimHeaderValue, compileJwtAuthn, normalizedClaims, requestPrincipal, type CompiledJwtAuthn, type JwtOutcome } from '../stages/jwt-authn.js';
import { removeToken, type TokenCarrier } from './locations.js';
import { proxyJwks } from './remote-jwks.js';

/** Envoy's MaximumUriLength for the realm. */
const MAX_REALM_PATH = 256;
/** RFC 9110 token: an output header with another name could not be sent upstream. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const NON_ASCII = /[^\x00-\x7f]/;

const compiled = new WeakMap<HttpConnectionManager, CompiledJwtAuthn | null>();

function authnOf(hcm: HttpConnectionManager): CompiledJwtAuthn | null {
  let c = compiled.get(hcm);
  if (c === undefined) {
    const rules: JwtRule[] = [];
    for (const f of Array.isArray(hcm.filters) ? hcm.filters : []) {
      if (f?.kind === 'jwt-authn' && Array.isArray(f.rules)) rules.push(...f.rules);
    }
    c = rules.length === 0 ? null : compileJwtAuthn(rules, proxyJwks);
    compiled.set(hcm, c);
  }
  return c;
}

export function jwtAuthnStep(ex: Exchange): void | Promise<void> {
  const authn = authnOf(ex.hcm);
  if (authn === null) return;
  proxyJwks.log = ex.services.log;
  const headers = ex.req.headers;
  for (const name of authn.outputHeaders) delete headers[name];
  if (ex.method === 'OPTIONS' && ex.header('origin') && ex.header('access-control-request-method')) return;
  const carrier = carrierOf(ex);
  const outcome = authenticate(authn, carrier, Math.floor(Date.now() / 1000));
  if (outcome instanceof Promise) return outcome.then((o) => apply(ex, carrier, o));
  apply(ex, carrier, outcome);
}

function carrierOf(ex: Exchange): TokenCarrier {
  const req = ex.req;
  return {
    headerValues(name) {
      const distinct = 'headersDistinct' in req ? req.headersDistinct[name] : undefined;
      if (distinct) return distinct;
      const v = req.headers[name];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    },
    get query() {
      return ex.query;
    },
    set query(q: string) {
      ex.query = q;
    },
    removeHeader(name) {
      delete req.headers[name];
    },
  };
}

function apply(ex: Exchange, carrier: TokenCarrier, outcome: JwtOutcome): void {
  const stats = ex.services.stats;
  if (outcome.kind === 'missing') {
    stats.inc(`http.${ex.hcm.statPrefix}.jwt_authn.allowed`);
    return;
  }
  if (outcome.kind === 'denied') {
    stats.inc(`http.${ex.hcm.statPrefix}.jwt_authn.denied`);
    const message = outcome.message;
    sendLocalReply(
      ex,
      { status: outcome.status, flag: '', body: message, details: `jwt_authn_access_denied{${message.replace(/\s/g, '_')}}`, grpcStatus: undefined, unexpected: false },
      { 'www-authenticate': `Bearer realm="${realm(ex)}", error="invalid_token"` },
    );
    return;
  }
  stats.inc(`http.${ex.hcm.statPrefix}.jwt_authn.allowed`);
  const { rule, jwt, tokens } = outcome;
  ex.claims = normalizedClaims(rule, jwt);
  ex.requestPrincipal = requestPrincipal(jwt);
  const headers = ex.req.headers;
  const r = rule.rule;
  if (typeof r.outputPayloadToHeader === 'string' && HEADER_NAME.test(r.outputPayloadToHeader)) headers[r.outputPayloadToHeader.toLowerCase()] = jwt.payloadSection;
  for (const c of Array.isArray(r.outputClaimToHeaders) ? r.outputClaimToHeaders : []) {
    if (typeof c?.header !== 'string' || typeof c.claim !== 'string' || !HEADER_NAME.test(c.header)) continue;
    const value = wireValue(claimHeaderValue(jwt.payload, c.claim));
    if (value !== undefined) headers[c.header.toLowerCase()] = value;
  }
  if (r.forwardOriginalToken !== true) for (const t of tokens) removeToken(t, carrier);
}

/**
 * A claim as a header value on the wire: its UTF-8 bytes (Node writes header strings as latin1,
 * so the string is re-spelled byte for byte, as Envoy sends the claim's bytes); a value with
 * control characters gives no header rather than a request the upstream client refuses.
 */
function wireValue(value: string | undefined): string | undefined {
  if (value === undefined || CONTROL.test(value)) return undefined;
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

/** Http::Utility::buildOriginalUri: scheme (x-forwarded-proto), host and path, the path cut at 256. */
function realm(ex: Exchange): string {
  const forwarded = ex.listener.direction === 'gateway' ? undefined : ex.header('x-forwarded-proto');
  const path = ex.path + ex.query;
  return `${forwarded ?? ex.scheme}://${ex.authority}${path.length > MAX_REALM_PATH ? path.slice(0, MAX_REALM_PATH) : path}`;
}
