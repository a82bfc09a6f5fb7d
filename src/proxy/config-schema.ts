/**
 * The shape of a ProxyConfig as the proxy needs it, checked before anything is applied: a config
 * that reaches the request path has the fields the stages read, with the types they expect, so
 * no request can crash on a missing array or a string where a number was promised. Objects are
 * loose: a newer control plane may send fields this proxy does not know (Envoy accepts unknown
 * dynamic fields too), and they are kept for `/config_dump`.
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const status = z.number().int().min(200).max(599);
const pct = z.number().min(0).max(100);
/** RFC 9110 token: what a header name may contain. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header values may not carry CR, LF or NUL (they would split or truncate the message). */
export const HEADER_VALUE = /^[^\r\n\0]*$/;

const headerName = z.string().regex(HEADER_NAME, 'not a valid header name');
const headerValue = z.string().regex(HEADER_VALUE, 'header values may not contain CR, LF or NUL');
const ms = z.number().min(0).finite();

const stringMatcher = z.union([
  z.looseObject({ exact: z.string(), ignoreCase: z.boolean().optional() }),
  z.looseObject({ prefix: z.string(), ignoreCase: z.boolean().optional() }),
  z.looseObject({ suffix: z.string(), ignoreCase: z.boolean().optional() }),
  z.looseObject({ regex: z.string() }),
  z.looseObject({ present: z.literal(true) }),
]);

const headerOps = z.looseObject({
  set: z.record(headerName, headerValue).optional(),
  add: z.record(headerName, headerValue).optional(),
  remove: z.array(headerName).optional(),
});

const weightedCluster = z.looseObject({
  cluster: z.string().min(1),
  weight: z.number().min(0).finite(),
  requestHeaders: headerOps.optional(),
  responseHeaders: headerOps.optional(),
});

const cors = z.looseObject({
  allowOrigins: z.array(stringMatcher),
  allowMethods: z.array(z.string()).optional(),
  allowHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAgeSeconds: z.number().int().min(0).optional(),
  allowCredentials: z.boolean().optional(),
  unmatchedPreflights: z.enum(['FORWARD', 'IGNORE']),
});

const retry = z.looseObject({
  attempts: z.number().int().min(0),
  perTryTimeoutMs: ms.optional(),
  retryOn: z.array(z.string()),
  retriableStatusCodes: z.array(z.number().int()),
  retryRemoteLocalities: z.boolean().optional(),
  ignorePreviousHosts: z.boolean(),
  backoffBaseMs: ms,
});

const forward = z.looseObject({
  kind: z.literal('forward'),
  clusters: z.array(weightedCluster).min(1),
  timeoutMs: ms.optional(),
  retry: retry.optional(),
  mirrors: z.array(z.looseObject({ cluster: z.string().min(1), percent: pct })).optional(),
  rewrite: z
    .looseObject({
      prefix: z.string().optional(),
      path: z.string().optional(),
      regex: z.looseObject({ pattern: z.string(), substitution: z.string() }).optional(),
      authority: z.string().regex(HEADER_VALUE).optional(),
    })
    .optional(),
  hashPolicy: z.unknown().optional(),
});

const action = z.discriminatedUnion('kind', [
  forward,
  z.looseObject({
    kind: z.literal('redirect'),
    scheme: z.string().optional(),
    host: z.string().optional(),
    port: port.optional(),
    derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
    path: z.string().optional(),
    prefixRewrite: z.string().optional(),
    code: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]),
  }),
  z.looseObject({ kind: z.literal('direct-response'), status, body: z.string().optional() }),
  z.looseObject({ kind: z.literal('cluster-not-found'), cluster: z.string() }),
]);

const route = z.looseObject({
  name: z.string(),
  match: z.looseObject({
    path: stringMatcher.optional(),
    headers: z.array(z.looseObject({ name: z.string().min(1), match: stringMatcher, invert: z.boolean().optional() })).optional(),
    queryParams: z.array(z.looseObject({ name: z.string(), match: stringMatcher })).optional(),
    claims: z.array(z.looseObject({ path: z.array(z.string()), match: stringMatcher, invert: z.boolean().optional() })).optional(),
    port: port.optional(),
  }),
  action,
  fault: z
    .looseObject({
      delay: z.looseObject({ fixedDelayMs: ms, percent: pct }).optional(),
      abort: z.looseObject({ httpStatus: status.optional(), grpcStatus: z.string().optional(), percent: pct }).optional(),
    })
    .optional(),
  requestHeaders: headerOps.optional(),
  responseHeaders: headerOps.optional(),
  cors: cors.optional(),
});

const filterChain = z.looseObject({
  name: z.string(),
  match: z.looseObject({
    serverNames: z.array(z.string()).optional(),
    transportProtocol: z.enum(['tls', 'raw_buffer']).optional(),
    applicationProtocols: z.array(z.string()).optional(),
    destinationPort: port.optional(),
  }),
  tls: z
    .looseObject({
      mode: z.enum(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL', 'ISTIO_MUTUAL']),
      certificate: z.string(),
      validationContext: z.string().optional(),
      subjectAltNames: z.array(z.string()).optional(),
      alpn: z.array(z.string()).optional(),
    })
    .optional(),
  protocol: z.enum(['http', 'tcp']),
  http: z
    .looseObject({
      routeConfig: z.string(),
      filters: z.array(z.looseObject({ kind: z.string() })),
      httpsRedirect: z.boolean().optional(),
      statPrefix: z.string(),
    })
    .optional(),
  tcp: z
    .looseObject({ clusters: z.array(weightedCluster).min(1), statPrefix: z.string(), idleTimeoutMs: ms.optional(), authz: z.array(z.unknown()).optional() })
    .optional(),
});

export const proxyConfigSchema = z.looseObject({
  version: z.string(),
  node: z.looseObject({
    id: z.string(),
    role: z.enum(['sidecar', 'ingress-gateway', 'egress-gateway']),
    namespace: z.string(),
    workload: z.string(),
    labels: z.record(z.string(), z.string()),
    serviceAccount: z.string(),
    ip: z.string(),
    revision: z.string(),
  }),
  listeners: z.array(
    z.looseObject({
      name: z.string().min(1),
      direction: z.enum(['outbound', 'inbound', 'gateway']),
      address: z.string(),
      port,
      filterChains: z.array(filterChain),
      defaultChain: filterChain.optional(),
    }),
  ),
  routes: z.array(
    z.looseObject({
      name: z.string(),
      virtualHosts: z.array(z.looseObject({ name: z.string(), domains: z.array(z.string()), routes: z.array(route), cors: cors.optional() })),
    }),
  ),
  clusters: z.array(
    z.looseObject({
      name: z.string().min(1),
      discovery: z.enum(['eds', 'static', 'strict-dns', 'original-dst']),
      protocol: z.enum(['http1', 'http2', 'auto', 'tcp']),
      connectTimeoutMs: ms,
    }),
  ),
  endpoints: z.array(
    z.looseObject({
      cluster: z.string(),
      endpoints: z.array(z.looseObject({ address: z.string(), port, weight: z.number().min(0), healthy: z.boolean() })),
    }),
  ),
  secrets: z.array(z.looseObject({ name: z.string() })),
  mesh: z.looseObject({
    trustDomain: z.string(),
    pathNormalization: z.enum(['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']),
    outboundTrafficPolicy: z.enum(['ALLOW_ANY', 'REGISTRY_ONLY']),
  }),
});
