/**
 * The shape of a ProxyConfig as the proxy needs it, checked before anything is applied: a config
 * that reaches the request path has the fields the stages read, with the types they expect, so
 * no request can crash on a missing array or a string where a number was promised. Objects are
 * loose: a newer control plane may send fields this proxy does not know (Envoy accepts unknown
 * dynamic fields too), and they are kept for `/config_dump`.
 *
 * Written as small checking functions rather than with zod: the proxy validates only this one
 * shape, and loading zod cost the proxy process about 14 MB of idle RSS (measured), a third of
 * the sidecar's budget. The semantics are zod's as used before: numbers are finite, `int` means a
 * safe integer, bounds are inclusive, unions take the first option that fits.
 */
import type { FieldPath } from '../lib/field-path.js';

export interface ShapeIssue {
  path: FieldPath;
  message: string;
}

type Path = (string | number)[];
type CheckFn = (value: unknown, path: Path, issues: ShapeIssue[]) => void;
/** A value check; `optional` ones also accept a missing field. */
interface Check {
  readonly run: CheckFn;
  readonly optional?: boolean;
}

const check = (run: CheckFn): Check => ({ run });
const fail = (issues: ShapeIssue[], path: Path, message: string): void => void issues.push({ path: [...path], message });
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function opt(c: Check): Check {
  return { run: (v, path, issues) => v !== undefined && c.run(v, path, issues), optional: true };
}

function num(o: { int?: boolean; min?: number; max?: number } = {}): Check {
  return check((v, path, issues) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(issues, path, `expected a finite number, received ${describe(v)}`);
    if (o.int && !Number.isSafeInteger(v)) return fail(issues, path, `expected an integer, received ${v}`);
    if (o.min !== undefined && v < o.min) return fail(issues, path, `must be >= ${o.min}`);
    if (o.max !== undefined && v > o.max) fail(issues, path, `must be <= ${o.max}`);
  });
}

function str(o: { min?: number; pattern?: RegExp; message?: string } = {}): Check {
  return check((v, path, issues) => {
    if (typeof v !== 'string') return fail(issues, path, `expected a string, received ${describe(v)}`);
    if (o.min !== undefined && v.length < o.min) return fail(issues, path, `must have at least ${o.min} character(s)`);
    if (o.pattern && !o.pattern.test(v)) fail(issues, path, o.message ?? `does not match ${String(o.pattern)}`);
  });
}

const bool = check((v, path, issues) => typeof v !== 'boolean' && fail(issues, path, `expected a boolean, received ${describe(v)}`));
const unknownValue = check(() => {});

function oneOf(values: readonly (string | number | boolean)[]): Check {
  return check((v, path, issues) => {
    if (!values.includes(v as string)) fail(issues, path, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, received ${JSON.stringify(v) ?? 'undefined'}`);
  });
}

function array(item: Check, o: { min?: number } = {}): Check {
  return check((v, path, issues) => {
    if (!Array.isArray(v)) return fail(issues, path, `expected an array, received ${describe(v)}`);
    if (o.min !== undefined && v.length < o.min) fail(issues, path, `must have at least ${o.min} item(s)`);
    for (let i = 0; i < v.length; i++) item.run(v[i], [...path, i], issues);
  });
}

function record(key: Check, value: Check): Check {
  return check((v, path, issues) => {
    if (!isObject(v)) return fail(issues, path, `expected an object, received ${describe(v)}`);
    for (const k of Object.keys(v)) {
      key.run(k, [...path, k], issues);
      value.run(v[k], [...path, k], issues);
    }
  });
}

/** An object with these fields; others are allowed and kept unless `strict`. */
function obj(shape: Record<string, Check>, o: { strict?: boolean } = {}): Check {
  const fields = Object.entries(shape);
  return check((v, path, issues) => {
    if (!isObject(v)) return fail(issues, path, `expected an object, received ${describe(v)}`);
    if (o.strict) for (const k of Object.keys(v)) if (!Object.hasOwn(shape, k)) fail(issues, [...path, k], 'unknown field');
    for (const [name, c] of fields) {
      const field = v[name];
      if (field === undefined) {
        if (!c.optional) fail(issues, [...path, name], 'required');
      } else {
        c.run(field, [...path, name], issues);
      }
    }
  });
}

/** The first option that fits; none: one issue at the value's own path. */
function union(options: Check[], expected: string): Check {
  return check((v, path, issues) => {
    for (const o of options) {
      const mine: ShapeIssue[] = [];
      o.run(v, path, mine);
      if (mine.length === 0) return;
    }
    fail(issues, path, `expected ${expected}`);
  });
}

/** Picks the option by its `kind`, then reports that option's issues. */
function byKind(options: Record<string, Check>): Check {
  const kinds = Object.keys(options);
  return check((v, path, issues) => {
    if (!isObject(v)) return fail(issues, path, `expected an object, received ${describe(v)}`);
    const option = typeof v.kind === 'string' && Object.hasOwn(options, v.kind) ? options[v.kind] : undefined;
    if (!option) return fail(issues, [...path, 'kind'], `expected one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}`);
    option.run(v, path, issues);
  });
}

const port = num({ int: true, min: 0, max: 65535 });
const status = num({ int: true, min: 200, max: 599 });
const pct = num({ min: 0, max: 100 });
/** RFC 9110 token: what a header name may contain. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header values may not carry CR, LF or NUL (they would split or truncate the message). */
export const HEADER_VALUE = /^[^\r\n\0]*$/;

const headerName = str({ pattern: HEADER_NAME, message: 'not a valid header name' });
const headerValue = str({ pattern: HEADER_VALUE, message: 'header values may not contain CR, LF or NUL' });
const ms = num({ min: 0 });

const stringMatcher = union(
  [
    obj({ exact: str(), ignoreCase: opt(bool) }),
    obj({ prefix: str(), ignoreCase: opt(bool) }),
    obj({ suffix: str(), ignoreCase: opt(bool) }),
    obj({ regex: str() }),
    obj({ present: oneOf([true]) }),
  ],
  'a string match: one of exact, prefix, suffix, regex, present',
);

const headerOps = obj({
  set: opt(record(headerName, headerValue)),
  add: opt(record(headerName, headerValue)),
  remove: opt(array(headerName)),
});

const weightedCluster = obj({
  cluster: str({ min: 1 }),
  weight: num({ min: 0 }),
  requestHeaders: opt(headerOps),
  responseHeaders: opt(headerOps),
});

const strings = array(str());

const cors = obj({
  allowOrigins: array(stringMatcher),
  allowMethods: opt(strings),
  allowHeaders: opt(strings),
  exposeHeaders: opt(strings),
  maxAgeSeconds: opt(num({ int: true, min: 0 })),
  allowCredentials: opt(bool),
  unmatchedPreflights: oneOf(['FORWARD', 'IGNORE']),
});

const retry = obj({
  attempts: num({ int: true, min: 0 }),
  perTryTimeoutMs: opt(ms),
  retryOn: strings,
  retriableStatusCodes: array(num({ int: true })),
  retryRemoteLocalities: opt(bool),
  ignorePreviousHosts: bool,
  backoffBaseMs: ms,
});

const action = byKind({
  forward: obj({
    clusters: array(weightedCluster, { min: 1 }),
    timeoutMs: opt(ms),
    retry: opt(retry),
    mirrors: opt(array(obj({ cluster: str({ min: 1 }), percent: pct }))),
    rewrite: opt(
      obj({
        prefix: opt(str()),
        path: opt(str()),
        regex: opt(obj({ pattern: str(), substitution: str() })),
        authority: opt(str({ pattern: HEADER_VALUE, message: 'may not contain CR, LF or NUL' })),
      }),
    ),
    hashPolicy: opt(unknownValue),
  }),
  redirect: obj({
    scheme: opt(str()),
    host: opt(str()),
    port: opt(port),
    derivePort: opt(oneOf(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'])),
    path: opt(str()),
    prefixRewrite: opt(str()),
    code: oneOf([301, 302, 303, 307, 308]),
  }),
  'direct-response': obj({ status, body: opt(str()) }),
  'cluster-not-found': obj({ cluster: str() }),
});

const route = obj({
  name: str(),
  match: obj({
    path: opt(stringMatcher),
    headers: opt(array(obj({ name: str({ min: 1 }), match: stringMatcher, invert: opt(bool) }))),
    queryParams: opt(array(obj({ name: str(), match: stringMatcher }))),
    claims: opt(array(obj({ path: strings, match: stringMatcher, invert: opt(bool) }))),
    port: opt(port),
  }),
  action,
  fault: opt(
    obj({
      delay: opt(obj({ fixedDelayMs: ms, percent: pct })),
      abort: opt(obj({ httpStatus: opt(status), grpcStatus: opt(str()), percent: pct })),
    }),
  ),
  requestHeaders: opt(headerOps),
  responseHeaders: opt(headerOps),
  cors: opt(cors),
});

/** AuthorizationPolicies as the authz stage reads them (HTTP filter `authz`, TCP `authz`). */
const authzValues = opt(strings);
const authzPolicies = array(
  obj({
    name: str(),
    action: oneOf(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']),
    provider: opt(str()),
    providerError: opt(str()),
    dryRun: opt(bool),
    rules: array(
      obj({
        index: num({ int: true, min: 0 }),
        from: array(obj(Object.fromEntries(['principals', 'requestPrincipals', 'namespaces', 'serviceAccounts', 'trustDomains', 'ipBlocks', 'remoteIpBlocks'].flatMap((f) => [[f, authzValues], [`not${f[0]!.toUpperCase()}${f.slice(1)}`, authzValues]])))),
        to: array(obj({ hosts: authzValues, notHosts: authzValues, ports: opt(array(port)), notPorts: opt(array(port)), methods: authzValues, notMethods: authzValues, paths: authzValues, notPaths: authzValues })),
        when: array(obj({ key: str(), names: authzValues, values: authzValues, notValues: authzValues })),
      }),
    ),
  }),
);

/** The CUSTOM provider an `authz` filter calls (ext-authz/). */
const extAuthzService = obj({
  provider: str(),
  cluster: str({ min: 1 }),
  timeoutMs: ms,
  pathPrefix: str(),
  failOpen: bool,
  statusOnError: num({ int: true, min: 100, max: 599 }),
  includeRequestHeaders: strings,
  includeAdditionalHeaders: array(obj({ name: str({ min: 1 }), value: str() })),
  includeRequestBody: opt(obj({ maxRequestBytes: num({ int: true, min: 0 }), allowPartialMessage: bool })),
  headersToUpstreamOnAllow: strings,
  headersToDownstreamOnAllow: strings,
  headersToDownstreamOnDeny: strings,
});

/** An HTTP filter; `authz` is checked in full, other kinds by their own stages. */
const httpFilter = check((v, path, issues) => {
  obj({ kind: str() }).run(v, path, issues);
  if (isObject(v) && v.kind === 'authz') obj({ policies: authzPolicies, extAuthz: opt(extAuthzService) }).run(v, path, issues);
});

const filterChain = obj({
  name: str(),
  match: obj({
    serverNames: opt(strings),
    transportProtocol: opt(oneOf(['tls', 'raw_buffer'])),
    applicationProtocols: opt(strings),
    destinationPort: opt(port),
  }),
  tls: opt(
    obj({
      mode: oneOf(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL', 'ISTIO_MUTUAL']),
      certificate: str(),
      validationContext: opt(str()),
      subjectAltNames: opt(strings),
      alpn: opt(strings),
    }),
  ),
  protocol: oneOf(['http', 'tcp']),
  http: opt(obj({ routeConfig: str(), filters: array(httpFilter), httpsRedirect: opt(bool), statPrefix: str() })),
  tcp: opt(obj({ clusters: array(weightedCluster, { min: 1 }), statPrefix: str(), idleTimeoutMs: opt(ms), authz: opt(authzPolicies) })),
});

const proxyConfig = obj({
  version: str(),
  node: obj({
    id: str(),
    role: oneOf(['sidecar', 'ingress-gateway', 'egress-gateway']),
    namespace: str(),
    workload: str(),
    labels: record(str(), str()),
    serviceAccount: str(),
    ip: str(),
    revision: str(),
  }),
  listeners: array(
    obj({
      name: str({ min: 1 }),
      direction: oneOf(['outbound', 'inbound', 'gateway']),
      address: str(),
      port,
      filterChains: array(filterChain),
      defaultChain: opt(filterChain),
    }),
  ),
  routes: array(obj({ name: str(), virtualHosts: array(obj({ name: str(), domains: strings, routes: array(route), cors: opt(cors) })) })),
  clusters: array(
    obj({
      name: str({ min: 1 }),
      discovery: oneOf(['eds', 'static', 'strict-dns', 'original-dst']),
      protocol: oneOf(['http1', 'http2', 'auto', 'tcp']),
      connectTimeoutMs: ms,
    }),
  ),
  endpoints: array(obj({ cluster: str(), endpoints: array(obj({ address: str(), port, weight: num({ min: 0 }), healthy: bool })) })),
  secrets: array(obj({ name: str() })),
  mesh: obj({
    trustDomain: str(),
    pathNormalization: oneOf(['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']),
    outboundTrafficPolicy: oneOf(['ALLOW_ANY', 'REGISTRY_ONLY']),
  }),
});

/** The checks, for the proxy's other small documents (the bootstrap file) to validate without zod. */
export const shape = { obj, opt, str, num, bool, oneOf, array, record };
export type { Check };

/** Every way `value` does not fit `c`, each at its field path; empty when it fits. */
export function checkShape(c: Check, value: unknown): ShapeIssue[] {
  const issues: ShapeIssue[] = [];
  c.run(value, [], issues);
  return issues;
}

/** Every way `value` is not a ProxyConfig's shape, each at its field path; empty when it is one. */
export function checkConfigShape(value: unknown): ShapeIssue[] {
  return checkShape(proxyConfig, value);
}
