/**
 * Header name and value checks for VirtualService header matches and header manipulation,
 * ported from Istio's validation.go and header_value_validator.go (itself a port of Envoy's
 * header_parser.cc), so a value Envoy would NACK is rejected at apply time.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import type { Headers } from './virtual-service-schema.js';

// RFC 7230 token characters.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);
const JWT_CLAIM_PREFIX = '@request.auth.claims';

/** Istio's jwt.ToRoutingClaim: `@request.auth.claims.a.b` or `@request.auth.claims[a][b]`. */
export function jwtClaimPath(name: string): string[] | undefined {
  if (!name.toLowerCase().startsWith(JWT_CLAIM_PREFIX)) return undefined;
  const rest = name.slice(JWT_CLAIM_PREFIX.length);
  if (rest.startsWith('.') && rest.length > 1) return rest.slice(1).split('.');
  if (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2) return rest.slice(1, -1).split('][');
  return undefined;
}

/** Istio's ValidateHTTPHeaderNameOrJwtClaimRoute, for match keys. */
export function matchHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (jwtClaimPath(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return HEADER_NAME.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

/** Istio's ValidateCORSHTTPHeaderName. */
export function corsHeaderNameProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name === '*') return undefined;
  return HEADER_NAME.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

function isInternalHeader(name: string): boolean {
  return name.startsWith(':') || name.toLowerCase() === 'host';
}

export function isAuthorityHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === ':authority' || lower === 'host';
}

/** Istio's ValidateHTTPHeaderWithAuthorityOperationName: request set/add may target the authority. */
function setRequestHeaderProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (isInternalHeader(name) && !isAuthorityHeader(name)) return `invalid header "${name}": header cannot have ":" prefix`;
  return undefined;
}

/** Istio's ValidateHTTPHeaderOperationName: removals and response headers. */
function headerOperationProblem(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name.toLowerCase() === 'host') return `invalid header "${name}": cannot set Host header`;
  if (isInternalHeader(name)) return `invalid header "${name}": header cannot have ":" prefix`;
  return undefined;
}

/** Istio's ValidateHTTPHeaderValue: no control characters, and Envoy's %VARIABLE% syntax well formed. */
export function headerValueProblem(value: string): string | undefined {
  // Tab (\x09) is allowed; other C0 controls and DEL are not.
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `header value configuration ${value} is invalid`;
  const problem = envoyFormatProblem(value);
  return problem ? `header value configuration: ${problem}` : undefined;
}

type State = 'literal' | 'name' | 'array' | 'string-start' | 'string' | 'delim' | 'args-end' | 'var-end';

/** Envoy's header_parser.cc state machine over `%VAR%`, `%VAR(arg)%` and `%VAR(["a","b"])%`. */
function envoyFormatProblem(value: string): string | undefined {
  let state: State = 'literal';
  for (let pos = 0; pos < value.length; pos++) {
    const ch = value[pos];
    const hasNext = pos + 1 < value.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'invalid header configuration. Un-escaped %';
        if (value[pos + 1] === '%') pos++;
        else state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'array';
        break;
      case 'array':
        if (ch === '[') state = 'string-start';
        else if (ch !== ' ') state = 'string';
        break;
      case 'delim':
        if (ch === ',') state = 'string-start';
        else if (ch === ']') state = 'args-end';
        else if (ch !== ' ') return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case 'string-start':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return `invalid header configuration. Expecting '"'`;
        break;
      case 'string':
        if (ch === '\\') {
          if (!hasNext) return 'invalid header configuration. Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'var-end';
        else if (ch === '"') state = 'delim';
        break;
      case 'args-end':
        if (ch === ')') state = 'var-end';
        else if (ch !== ' ') return `invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'`;
        break;
      case 'var-end':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return 'invalid header configuration. Expecting \'%\' or whitespace after';
        break;
    }
  }
  return state === 'literal' ? undefined : `invalid header configuration. Un-terminated variable expression '${value}'`;
}

/** The header manipulation checks Istio applies to `http[].headers` and `route[].headers`. */
export function validateHeaderOperations(headers: Headers | undefined, path: FieldPath, ctx: ValidationContext): void {
  const check = (section: 'request' | 'response', op: 'set' | 'add', nameCheck: (n: string) => string | undefined) => {
    for (const [name, value] of Object.entries(headers?.[section]?.[op] ?? {})) {
      const at = [...path, section, op, name];
      const problem = nameCheck(name);
      if (problem) ctx.error(at, problem);
      const valueProblem = headerValueProblem(value);
      if (valueProblem) ctx.error(at, valueProblem);
    }
  };
  const remove = (section: 'request' | 'response') => {
    (headers?.[section]?.remove ?? []).forEach((name, i) => {
      const problem = headerOperationProblem(name);
      if (problem) ctx.error([...path, section, 'remove', i], problem);
    });
  };
  check('request', 'add', setRequestHeaderProblem);
  check('request', 'set', setRequestHeaderProblem);
  remove('request');
  check('response', 'add', headerOperationProblem);
  check('response', 'set', headerOperationProblem);
  remove('response');
}
