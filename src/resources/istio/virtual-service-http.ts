/**
 * Semantic checks for one `http[]` route of a VirtualService: Istio's validateHTTPRoute and the
 * functions it calls (virtualservice.go, validation.go, agent/validation.go), reported at the
 * field they are about. Istio stops at the first redirect problem; here every problem is reported.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { re2Problem, type StringMatch } from '../schema.js';
import type {
  CorsPolicy, Destination, HTTPDirectResponse, HTTPFaultInjection, HTTPMatchRequest, HTTPRedirect,
  HTTPRetry, HTTPRewrite, HTTPRoute, HTTPRouteDestination, Percent, RouteDestination,
} from './virtual-service-schema.js';
import { corsHeaderNameProblem, isAuthorityHeader, jwtClaimPath, matchHeaderNameProblem, validateHeaderOperations } from './virtual-service-headers.js';
import { validateGatewayNames } from './virtual-service-hosts.js';
import { isIstioDnsLabel, portProblem, wildcardDomainProblem } from './networking-checks.js';

type Ctx = ValidationContext;

/** `delegateVs`: the VirtualService has no hosts, so it can only be used as a delegate. */
export function validateHttpRoute(route: HTTPRoute, delegateVs: boolean, path: FieldPath, ctx: Ctx): void {
  validateActions(route, delegateVs, path, ctx);
  (route.match ?? []).forEach((m, j) => validateMatch(m, [...path, 'match', j], ctx));
  validateHeaderOperations(route.headers, [...path, 'headers'], ctx);
  if (route.corsPolicy) validateCors(route.corsPolicy, [...path, 'corsPolicy'], ctx);
  if (route.fault) validateFault(route.fault, [...path, 'fault'], ctx);
  for (const field of ['mirrorPercent', 'mirror_percent'] as const) {
    if (route[field] !== undefined) ctx.warning([...path, field], `using deprecated setting "${field}", use "mirrorPercentage" instead`);
  }
  if (route.mirror) validateDestination(route.mirror, [...path, 'mirror'], ctx);
  (route.mirrors ?? []).forEach((m, i) => validateDestination(m.destination, [...path, 'mirrors', i, 'destination'], ctx));
  if (route.redirect) validateRedirect(route.redirect, route.match, [...path, 'redirect'], ctx);
  if (route.directResponse) validateDirectResponse(route.directResponse, [...path, 'directResponse'], ctx);
  if (route.retries) validateRetry(route.retries, [...path, 'retries'], ctx);
  if (route.rewrite) validateRewrite(route.rewrite, [...path, 'rewrite'], ctx);
  validateAuthorityRewrite(route, path, ctx);
  validateDestinations(route.route, [...path, 'route'], ctx);
}

/** Istio's validateHTTPRouteConflict: a route forwards, redirects, responds directly or delegates. */
function validateActions(r: HTTPRoute, delegateVs: boolean, path: FieldPath, ctx: Ctx): void {
  const at = (field: string) => [...path, field];
  if (!delegateVs && r.delegate) {
    const name = r.name ? ` ${r.name}` : '';
    if (r.redirect) ctx.error(at('redirect'), `root HTTP route${name} must not specify redirect`);
    if (r.route) ctx.error(at('route'), `root HTTP route${name} must not specify route`);
    return;
  }
  if (delegateVs && r.delegate) ctx.error(at('delegate'), 'delegate HTTP route cannot contain delegate');
  const hasRoute = (r.route?.length ?? 0) > 0;
  if (r.redirect) {
    if (hasRoute) ctx.error(at('route'), 'HTTP route cannot contain both route and redirect');
    if (r.fault) ctx.error(at('fault'), 'HTTP route cannot contain both fault and redirect');
    if (r.rewrite) ctx.error(at('rewrite'), 'HTTP route rule cannot contain both rewrite and redirect');
    if (r.directResponse) ctx.error(at('directResponse'), 'HTTP route rule cannot contain both directResponse and redirect');
  } else if (r.directResponse) {
    if (hasRoute) ctx.error(at('route'), 'HTTP route cannot contain both route and directResponse');
    if (r.fault) ctx.error(at('fault'), 'HTTP route cannot contain both fault and directResponse');
    if (r.rewrite) ctx.error(at('rewrite'), 'HTTP route rule cannot contain both rewrite and directResponse');
  } else if (!hasRoute) {
    ctx.error(path, 'HTTP route, redirect or directResponse is required');
  }
  if (r.mirror && (r.mirrors?.length ?? 0) > 0) ctx.error(at('mirrors'), 'HTTP route cannot contain both mirror and mirrors');
}

/** Istio's validateStringMatch; `uri` alone may have an empty prefix (Envoy allows it there only). */
function validateStringMatch(sm: StringMatch | undefined, where: string, path: FieldPath, ctx: Ctx, allowEmptyPrefix = false): void {
  if (!sm) return;
  if (sm.prefix === '' && !allowEmptyPrefix) ctx.error([...path, 'prefix'], `"${where}": prefix string match should not be empty`);
  if (sm.regex !== undefined) {
    const problem = regexProblem(sm.regex, where);
    if (problem) ctx.error([...path, 'regex'], problem);
  }
}

/** Istio's validateStringRegexp (Envoy's RE2 program-size limit is approximated by length). */
export function regexProblem(re: string, where: string): string | undefined {
  if (re === '') return `"${where}": regex string match should not be empty`;
  if (re.length > 1024) return `"${where}": regex is too large, max length allowed is 1024`;
  const problem = re2Problem(re);
  return problem ? `"${where}": ${problem}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)` : undefined;
}

/** Istio's validateHTTPRouteMatchRequest. */
function validateMatch(m: HTTPMatchRequest, path: FieldPath, ctx: Ctx): void {
  for (const [field, where] of [['headers', 'headers'], ['withoutHeaders', 'withoutHeaders']] as const) {
    for (const [name, sm] of Object.entries(m[field] ?? {})) {
      const at = [...path, field, name];
      const problem = matchHeaderNameProblem(name);
      if (problem) ctx.error(at, problem);
      else if (!jwtClaimPath(name) && name !== name.toLowerCase()) {
        ctx.warning(at, `header name "${name}" should be lowercase: header names are case-insensitive and it is matched as "${name.toLowerCase()}"`);
      }
      // In withoutHeaders, `regex: "*"` is not RE2: it means "header present".
      if (field === 'withoutHeaders' && sm.regex === '*') continue;
      validateStringMatch(sm, where, at, ctx);
    }
  }
  validateStringMatch(m.uri, 'uri', [...path, 'uri'], ctx, true);
  validateStringMatch(m.scheme, 'scheme', [...path, 'scheme'], ctx);
  validateStringMatch(m.method, 'method', [...path, 'method'], ctx);
  validateStringMatch(m.authority, 'authority', [...path, 'authority'], ctx);
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) validateStringMatch(sm, 'queryParams', [...path, 'queryParams', name], ctx);
  if (m.port) {
    const problem = portProblem(m.port);
    if (problem) ctx.error([...path, 'port'], problem);
  }
  validateGatewayNames(m.gateways, [...path, 'gateways'], ctx);
  if (m.sourceNamespace && !isIstioDnsLabel(m.sourceNamespace)) {
    ctx.error([...path, 'sourceNamespace'], `sourceNamespace match ${m.sourceNamespace} is invalid`);
  }
}

/** Istio's validateDestination. */
export function validateDestination(d: Destination, path: FieldPath, ctx: Ctx): void {
  if (d.host === '*') ctx.error([...path, 'host'], `invalid destination host ${d.host}`);
  else {
    const problem = wildcardDomainProblem(d.host);
    if (problem) ctx.error([...path, 'host'], problem);
  }
  if (d.subset && !isIstioDnsLabel(d.subset)) ctx.error([...path, 'subset'], `subset name is invalid: ${d.subset}`);
  if (d.port) {
    const problem = portProblem(d.port.number ?? 0);
    if (problem) ctx.error([...path, 'port', ...(d.port.number === undefined ? [] : ['number'])], problem);
  }
}

/** Istio's validateHTTPRouteDestinations / validateRouteDestinations. */
export function validateDestinations(list: readonly (HTTPRouteDestination | RouteDestination)[] | undefined, path: FieldPath, ctx: Ctx): void {
  if (!list) return;
  let total = 0;
  list.forEach((rd, i) => {
    if ('headers' in rd) validateHeaderOperations(rd.headers, [...path, i, 'headers'], ctx);
    validateDestination(rd.destination, [...path, i, 'destination'], ctx);
    const weight = rd.weight ?? 0;
    if (weight < 0) ctx.error([...path, i, 'weight'], `weight ${weight} < 0`);
    total += weight;
  });
  if (list.length > 1 && total === 0) ctx.error(path, 'total destination weight = 0');
}

const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);

/** Istio's validateCORSPolicy. */
function validateCors(c: CorsPolicy, path: FieldPath, ctx: Ctx): void {
  // Istio validates allowOrigins only; origins folded in from the deprecated allowOrigin are
  // reported where they were written.
  const fromDeprecated = c.allowOrigin !== undefined && c.allowOrigins !== undefined && c.allowOrigins.length === c.allowOrigin.length
    && c.allowOrigins.every((o, i) => o.exact === c.allowOrigin?.[i] && o.prefix === undefined && o.regex === undefined);
  (c.allowOrigins ?? []).forEach((origin, i) => {
    const at = fromDeprecated ? [...path, 'allowOrigin', i] : [...path, 'allowOrigins', i];
    const text = origin.exact ?? origin.prefix ?? origin.regex ?? '';
    if (text === '') ctx.error(at, `'' is not a valid match type for CORS allow origins`);
    else if (origin.regex !== undefined) {
      const problem = regexProblem(origin.regex, 'corsPolicy.allowOrigins');
      if (problem) ctx.error([...at, 'regex'], problem);
    }
  });
  (c.allowMethods ?? []).forEach((method, i) => {
    if (!CORS_METHODS.has(method)) ctx.error([...path, 'allowMethods', i], `"${method}" is not a supported HTTP method`);
  });
  for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
    (c[field] ?? []).forEach((name, i) => {
      const problem = corsHeaderNameProblem(name);
      if (problem) ctx.error([...path, field, i], problem);
    });
  }
  // Access-Control-Max-Age is in whole seconds.
  if (c.maxAge !== undefined && c.maxAge % 1000 !== 0) ctx.error([...path, 'maxAge'], 'maxAge duration is accurate only to seconds precision');
}

const GRPC_STATUS = new Set([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]);

/** Istio's validatePercentage: Envoy's fractional percent has a resolution of 0.0001%. */
function percentageProblem(p: Percent | undefined): string | undefined {
  if (!p || p.value === 0 || (p.value >= 0.0001 && p.value <= 100)) return undefined;
  return `percentage ${p.value} is neither 0.0, nor in range [0.0001, 100.0]`;
}

/** Istio's validateHTTPStatus (its bound admits 600). */
function httpStatusProblem(status: number): string | undefined {
  return status < 200 || status > 600 ? `HTTP status ${status} is not in range 200-599` : undefined;
}

/** Istio's validateHTTPFaultInjection. */
function validateFault(f: HTTPFaultInjection, path: FieldPath, ctx: Ctx): void {
  if (!f.abort && !f.delay) ctx.error(path, 'HTTP fault injection must have an abort and/or a delay');
  if (f.abort) {
    const a = f.abort;
    const at = [...path, 'abort'];
    const pct = percentageProblem(a.percentage);
    if (pct) ctx.error([...at, 'percentage'], pct);
    if (a.grpcStatus !== undefined) {
      if (!GRPC_STATUS.has(a.grpcStatus)) {
        ctx.error([...at, 'grpcStatus'], `gRPC status "${a.grpcStatus}" is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`);
      }
    } else if (a.http2Error !== undefined) {
      ctx.error([...at, 'http2Error'], 'HTTP/2 abort fault injection not supported yet');
    } else if (a.httpStatus !== undefined) {
      const problem = httpStatusProblem(a.httpStatus);
      if (problem) ctx.error([...at, 'httpStatus'], problem);
    } else {
      ctx.warning(at, 'abort configured, but error type not set');
    }
  }
  if (f.delay) {
    const d = f.delay;
    const at = [...path, 'delay'];
    const pct = percentageProblem(d.percentage);
    if (pct) ctx.error([...at, 'percentage'], pct);
    if (d.exponentialDelay !== undefined) ctx.error([...at, 'exponentialDelay'], 'exponentialDelay not supported yet');
    // Istio drops a delay without a type when it builds Envoy's config; say so.
    else if (d.fixedDelay === undefined) ctx.warning(at, 'delay configured, but fixedDelay not set: no delay is injected');
  }
}

/** Istio's validateHTTPRedirect. */
function validateRedirect(r: HTTPRedirect, matches: readonly HTTPMatchRequest[] | undefined, path: FieldPath, ctx: Ctx): void {
  if (r.uri && r.prefixRewrite) ctx.error([...path, 'prefixRewrite'], 'redirect may only specify one of uri or prefixRewrite');
  if (r.prefixRewrite && (matches ?? []).some((m) => m.uri !== undefined && m.uri.prefix === undefined)) {
    ctx.error([...path, 'prefixRewrite'], 'redirect prefixRewrite requires all URI matches to use prefix match type');
  }
  if (!r.uri && !r.prefixRewrite && !r.authority && r.port === undefined && r.derivePort === undefined && !r.scheme) {
    ctx.error(path, 'redirect must specify URI, authority, scheme, or port');
  }
  if (r.redirectCode && (r.redirectCode < 300 || r.redirectCode > 399)) {
    ctx.error([...path, 'redirectCode'], `${r.redirectCode} is not a valid redirect code, must be 3xx`);
  }
  if (r.scheme && r.scheme !== 'http' && r.scheme !== 'https') ctx.error([...path, 'scheme'], 'invalid redirect scheme, must be "http" or "https"');
  if (r.port) {
    const problem = portProblem(r.port);
    if (problem) ctx.error([...path, 'port'], problem);
  }
}

const KB = 1024;
const MB = 1024 * KB;

/** Istio's validateHTTPDirectResponse: bodies travel in every proxy's config, so size is capped. */
function validateDirectResponse(d: HTTPDirectResponse, path: FieldPath, ctx: Ctx): void {
  const body = d.body;
  if (body) {
    const size = body.string !== undefined ? Buffer.byteLength(body.string) : Buffer.from(body.bytes ?? '', 'base64').length;
    const at = [...path, 'body'];
    if (size > MB) ctx.error(at, 'large direct_responses may impact control plane performance, must be less than 1MB');
    else if (size > 100 * KB) ctx.warning(at, 'large direct_responses may impact control plane performance');
  }
  const problem = httpStatusProblem(d.status);
  if (problem) ctx.error([...path, 'status'], problem);
}

// Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on policies.
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

// The codes Go's http.StatusText knows; Istio accepts a retryOn entry that is one of them.
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423,
  424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

/** Istio's ValidateHTTPRetry. */
function validateRetry(r: HTTPRetry, path: FieldPath, ctx: Ctx): void {
  const attempts = r.attempts ?? 0;
  if (attempts < 0) ctx.error([...path, 'attempts'], 'attempts cannot be negative');
  if (attempts === 0 && (r.perTryTimeout !== undefined || (r.retryOn ?? '') !== '' || r.retryRemoteLocalities !== undefined)) {
    ctx.error(r.attempts === undefined ? path : [...path, 'attempts'], 'http retry policy configured when attempts are set to 0 (disabled)');
  }
  if (r.retryOn) {
    for (const policy of r.retryOn.split(',')) {
      // Go's strconv.Atoi: no spaces, so "5xx, reset" is rejected as Istio rejects it.
      const code = /^[+-]?\d+$/.test(policy) ? Number(policy) : 0;
      if (KNOWN_STATUS.has(code) || RETRY_ON.has(policy)) continue;
      const hint = policy.trim() !== policy ? ' (retryOn is a comma-separated list without spaces)' : '';
      ctx.error([...path, 'retryOn'], `"${policy}" is not a valid retryOn policy${hint}`);
    }
  }
}

/** Istio's validateHTTPRewrite. */
function validateRewrite(r: HTTPRewrite, path: FieldPath, ctx: Ctx): void {
  if (r.uri && r.uriRegexRewrite) ctx.error([...path, 'uriRegexRewrite'], 'rewrite may only contain one of uri or uriRegexRewrite');
  if (!r.uri && !r.uriRegexRewrite && !r.authority) {
    ctx.error(path, 'rewrite must specify at least one of uri, uriRegexRewrite, or authority. Only one of uri or uriRegexRewrite may be specified');
  }
  const rr = r.uriRegexRewrite;
  if (rr) {
    if (!rr.match || !rr.rewrite) ctx.error([...path, 'uriRegexRewrite'], 'UriRegexRewrite requires both Rewrite and Match fields to be specified');
    else {
      const problem = regexProblem(rr.match, 'HTTPRewrite.UriRegexRewrite.Match');
      if (problem) ctx.error([...path, 'uriRegexRewrite', 'match'], `UriRegexRewrite has errors: ${problem}`);
    }
  }
}

/** Istio's validateAuthorityRewrite: the authority may be rewritten in one place only. */
function validateAuthorityRewrite(r: HTTPRoute, path: FieldPath, ctx: Ctx): void {
  let current = r.rewrite?.authority ?? '';
  for (const op of ['set', 'add'] as const) {
    for (const [name, value] of Object.entries(r.headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(name)) continue;
      if (current !== '') {
        ctx.error([...path, 'headers', 'request', op, name], `authority header cannot be set multiple times: have "${current}", attempting to set "${value}"`);
        return;
      }
      current = value;
    }
  }
}
