/**
 * The proxy config: everything one proxy (sidecar, ingress or egress gateway) needs to serve
 * traffic, compiled by the control plane from Istio resources and the service registry, and the
 * only thing the control plane and the proxy share. Its shape follows Envoy's xDS (listeners ->
 * filter chains -> route configurations -> virtual hosts -> routes -> clusters -> endpoints) and
 * its names are Istio's (`outbound|9080|v1|reviews.default.svc.cluster.local`), so that
 * `weft proxy-config` reads like `istioctl proxy-config`.
 *
 * Plain data only: JSON-serialisable, no classes, no functions; durations in milliseconds,
 * percentages as numbers 0..100. Every item that comes from a user resource names it in `source`.
 */

/** The Istio resource (and field) an item was compiled from, for `proxy-config` and for errors. */
export interface ConfigSource {
  kind: string;
  namespace: string;
  name: string;
  /** Field path within the resource, e.g. `spec.http[0]`. */
  path?: string;
}

export type ProxyRole = 'sidecar' | 'ingress-gateway' | 'egress-gateway';

/** Who the proxy is: the pod (or gateway pod) it serves. */
export interface ProxyNode {
  /** `<pod>.<namespace>`, as Istio's `sidecar~10.0.0.1~reviews-v1-abc.default~default.svc.cluster.local` is abbreviated. */
  id: string;
  role: ProxyRole;
  namespace: string;
  /** Workload name (the Deployment), for metrics and the service graph. */
  workload: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** The pod's address; inbound listeners bind to it. */
  ip: string;
  /** Control plane revision this proxy belongs to ('' for the default revision). */
  revision: string;
  /** `region/zone/subzone` (Envoy's node locality); absent: unknown, as Istio leaves it empty. */
  locality?: string;
}

export interface ProxyConfig {
  /** Monotonic per proxy; a proxy ACKs or NACKs a version. */
  version: string;
  node: ProxyNode;
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  /** Certificates and CA bundles referenced by name from TLS settings (SDS in Istio). */
  secrets: Secret[];
  mesh: MeshRuntimeConfig;
}

/** PEM material; printed as `[redacted]` by proxy-config dumps. */
export interface Secret {
  /** `default` (workload certificate), `ROOTCA` (mesh trust bundle), or a credentialName. */
  name: string;
  certificateChain?: string;
  privateKey?: string;
  trustedCa?: string;
  /** `ROOTCA` from the control plane: the certificate its CA signs with now; a proxy whose certificate another signed asks for a new one. */
  signingCa?: string;
}

/** Mesh-wide settings the proxy applies at run time. */
export interface MeshRuntimeConfig {
  trustDomain: string;
  /** Normalisation applied before routing and authorization (meshConfig.pathNormalization). */
  pathNormalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
  /** meshConfig.outboundTrafficPolicy.mode for unknown destinations. */
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** meshConfig.accessLogFile (`/dev/stdout`...), accessLogEncoding and accessLogFormat; absent: no access log. */
  accessLog?: AccessLogSettings;
  /**
   * Access logs as Telemetry resources configure them for this proxy (one per provider): when
   * present they replace `accessLog`, and an empty list turns access logs off. `mode` keeps one to
   * the client side (outbound and gateway listeners) or the server side (inbound); absent: both.
   */
  accessLogs?: (AccessLogSettings & { mode?: 'CLIENT' | 'SERVER'; filter?: string })[];
  /** Tracing of the client side (outbound and gateway listeners), and of the server side unless `inboundTracing` is present. */
  tracing?: TracingSettings;
  /** Telemetry tracing of the server side (inbound listener) when it differs from `tracing`; null: none there. */
  inboundTracing?: TracingSettings | null;
  /** Telemetry metrics overrides (absent: every standard metric with Istio's labels). */
  metrics?: MetricsSettings;
}

/** How one side of a proxy traces requests (Telemetry tracing or meshConfig). */
export interface TracingSettings {
  samplingPercent: number;
  /** Zipkin collector, `host:port` or a URL; absent with no `otlp`: spans are decided and propagated, not sent. */
  zipkinAddress?: string;
  /** OTLP/HTTP collector (an `opentelemetry` extension provider with `http`): spans go there as OTLP JSON. */
  otlp?: OtlpExporter;
  /** Telemetry customTags: span tag name -> where its value comes from. */
  customTags?: Record<string, TracingCustomTag>;
}

export interface OtlpExporter {
  /** `http://collector:4318/v1/traces`. */
  url: string;
  timeoutMs?: number;
  /** Headers sent with every export; `envName` reads the proxy's environment. */
  headers?: { name: string; value?: string; envName?: string }[];
}

export type TracingCustomTag =
  | { literal: string }
  | { environment: string; defaultValue?: string }
  | { header: string; defaultValue?: string }
  /** An access-log format string (`%REQ(:PATH)%`), as Envoy's formatter custom tag. */
  | { formatter: string };

/** Istio's metric names (telemetry.v1alpha1 MetricSelector.IstioMetric, ALL_METRICS expanded). */
export type IstioMetricName =
  | 'REQUEST_COUNT' | 'REQUEST_DURATION' | 'REQUEST_SIZE' | 'RESPONSE_SIZE'
  | 'TCP_OPENED_CONNECTIONS' | 'TCP_CLOSED_CONNECTIONS' | 'TCP_SENT_BYTES' | 'TCP_RECEIVED_BYTES'
  | 'GRPC_REQUEST_MESSAGES' | 'GRPC_RESPONSE_MESSAGES';

/** Telemetry metrics overrides per side: client (outbound, gateway) and server (inbound). */
export interface MetricsSettings {
  client?: Partial<Record<IstioMetricName, MetricOverride>>;
  server?: Partial<Record<IstioMetricName, MetricOverride>>;
}

export interface MetricOverride {
  disabled?: boolean;
  /** Sorted by name. `value` is a CEL expression over the request's attributes (`request.headers['x']`). */
  tags?: { name: string; remove?: boolean; value?: string }[];
}

/** Where and how one access log is written. */
export interface AccessLogSettings {
  encoding: 'TEXT' | 'JSON';
  /** Envoy's format string (TEXT) or a JSON object of key -> operator (JSON); absent: Istio's default. */
  format?: string;
  /** `/dev/stdout` (default), `/dev/stderr` or a file path. */
  file?: string;
}

// ---------------------------------------------------------------- listeners

export type ListenerDirection = 'outbound' | 'inbound' | 'gateway';

/**
 * Where connections arrive. Sidecar outbound listeners are keyed by the original destination
 * port (and address, for TCP services with a VIP); the inbound listener takes everything
 * redirected to 15006; gateways listen on their server ports.
 */
export interface Listener {
  /** Istio's names: `0.0.0.0_9080`, `10.96.0.10_3306`, `virtualInbound`, `0.0.0.0_8080`. */
  name: string;
  direction: ListenerDirection;
  /** 0.0.0.0 (any) or a service VIP for TCP listeners. */
  address: string;
  port: number;
  /** Tried in order; the first whose match fits the connection serves it. */
  filterChains: FilterChain[];
  /** Used when no chain matches (e.g. PassthroughCluster); absent means close the connection (NR). */
  defaultChain?: FilterChain;
}

export interface FilterChainMatch {
  /** SNI names (`*.example.com` allowed); absent matches any. */
  serverNames?: string[];
  /** `tls` or `raw_buffer`, detected from the first bytes. */
  transportProtocol?: 'tls' | 'raw_buffer';
  /** ALPN offered by the client (e.g. `istio-peer-exchange`, `h2`). */
  applicationProtocols?: string[];
  /** For the inbound listener: the workload port the connection was addressed to. */
  destinationPort?: number;
}

export interface FilterChain {
  name: string;
  match: FilterChainMatch;
  /** Terminate TLS with these settings (gateway SIMPLE/MUTUAL, inbound mTLS). */
  tls?: DownstreamTls;
  /** `http`: HTTP/1.1 or HTTP/2 (by ALPN or preface); `tcp`: opaque bytes. */
  protocol: 'http' | 'tcp';
  http?: HttpConnectionManager;
  tcp?: TcpProxy;
  source?: ConfigSource;
}

export interface DownstreamTls {
  mode: 'SIMPLE' | 'MUTUAL' | 'OPTIONAL_MUTUAL' | 'ISTIO_MUTUAL';
  /** Name of a secret delivered with the config (`default` is the workload certificate). */
  certificate: string;
  /** Name of a CA bundle secret to verify client certificates (`ROOTCA` for the mesh's). */
  validationContext?: string;
  /** Accepted client SANs (SPIFFE IDs for mesh traffic); empty accepts any verified peer. */
  subjectAltNames?: string[];
  alpn?: string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
}

/** The HTTP layer of a filter chain: which route table, and the filters in front of routing. */
export interface HttpConnectionManager {
  /** Name of a RouteConfiguration in this ProxyConfig. */
  routeConfig: string;
  /** Request-level filters run in this order before the router (authn before authz). */
  filters: HttpFilter[];
  /** Redirect every request to https (Gateway `httpsRedirect`). */
  httpsRedirect?: boolean;
  /** Identifies the traffic in metrics: `inbound` or `outbound` reporter side. */
  statPrefix: string;
}

export type HttpFilter =
  | { kind: 'jwt-authn'; rules: JwtRule[] }
  /** `extAuthz`: the CUSTOM provider the chain's CUSTOM policies call (absent: they deny what they match). */
  | { kind: 'authz'; policies: AuthorizationPolicy[]; extAuthz?: ExtAuthzService };

export interface TcpProxy {
  /** Weighted destinations; one entry for a plain TCP route. */
  clusters: WeightedCluster[];
  /** Authorization with the TCP-applicable fields. */
  authz?: AuthorizationPolicy[];
  statPrefix: string;
  idleTimeoutMs?: number;
}

// ---------------------------------------------------------------- routes

export interface RouteConfiguration {
  /** Istio's names: `9080` (sidecar outbound port), `inbound|9080||`, `http.8080` (gateway). */
  name: string;
  virtualHosts: VirtualHost[];
}

export interface VirtualHost {
  /** `reviews.default.svc.cluster.local:9080`. */
  name: string;
  /** Host header values served: `reviews`, `reviews.default`, `reviews:9080`, VIPs, `*.example.com`, `*`. */
  domains: string[];
  routes: Route[];
  cors?: CorsPolicy;
}

export interface Route {
  /** Istio's route name (`match name` or `<vs>.<ns>` style), for logs and metrics. */
  name: string;
  match: RouteMatch;
  action: RouteAction;
  fault?: FaultInjection;
  requestHeaders?: HeaderOperations;
  responseHeaders?: HeaderOperations;
  cors?: CorsPolicy;
  source?: ConfigSource;
}

export type StringMatcher =
  | { exact: string; ignoreCase?: boolean }
  | { prefix: string; ignoreCase?: boolean }
  | { suffix: string; ignoreCase?: boolean }
  | { regex: string }
  | { present: true };

export interface HeaderMatcher {
  /** Lower-case header name; `:method`, `:authority`, `:scheme` for those pseudo-headers. */
  name: string;
  match: StringMatcher;
  /** withoutHeaders: the route matches when this matcher does not. */
  invert?: boolean;
}

export interface ClaimMatcher {
  /** Path into the validated JWT payload: `["groups"]`, `["realm", "role"]`. */
  path: string[];
  match: StringMatcher;
  invert?: boolean;
}

export interface RouteMatch {
  path?: StringMatcher;
  headers?: HeaderMatcher[];
  queryParams?: { name: string; match: StringMatcher }[];
  claims?: ClaimMatcher[];
  /** Destination port of the request (VS match `port`), when the route table spans ports. */
  port?: number;
}

export type RouteAction =
  | ForwardAction
  | { kind: 'redirect'; scheme?: string; host?: string; port?: number; derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT'; path?: string; prefixRewrite?: string; code: number }
  | { kind: 'direct-response'; status: number; body?: string }
  /** No cluster could be built for the destination (missing subset or host): 503 with flag NC. */
  | { kind: 'cluster-not-found'; cluster: string };

export interface WeightedCluster {
  /** Name of a Cluster in this ProxyConfig. */
  cluster: string;
  weight: number;
  requestHeaders?: HeaderOperations;
  responseHeaders?: HeaderOperations;
}

export interface ForwardAction {
  kind: 'forward';
  clusters: WeightedCluster[];
  /** 0 or absent: no timeout (Istio's default). */
  timeoutMs?: number;
  retry?: RetryPolicy;
  mirrors?: { cluster: string; percent: number }[];
  rewrite?: { prefix?: string; path?: string; regex?: { pattern: string; substitution: string }; authority?: string };
  hashPolicy?: HashPolicy;
}

export interface RetryPolicy {
  attempts: number;
  perTryTimeoutMs?: number;
  /** Envoy retry_on conditions: `connect-failure`, `5xx`, `gateway-error`, `retriable-status-codes`, ... */
  retryOn: string[];
  retriableStatusCodes: number[];
  retryRemoteLocalities?: boolean;
  /** Try other hosts than the ones that failed (Istio default true). */
  ignorePreviousHosts: boolean;
  backoffBaseMs: number;
}

export interface FaultInjection {
  delay?: { fixedDelayMs: number; percent: number };
  abort?: { httpStatus?: number; grpcStatus?: string; percent: number };
}

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface CorsPolicy {
  allowOrigins: StringMatcher[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
  unmatchedPreflights: 'FORWARD' | 'IGNORE';
}

export type HashPolicy =
  | { header: string }
  | { cookie: { name: string; path?: string; ttlMs?: number; attributes?: { name: string; value?: string }[] } }
  | { sourceIp: true }
  | { queryParameter: string };

// ---------------------------------------------------------------- clusters and endpoints

export type ClusterDiscovery = 'eds' | 'static' | 'strict-dns' | 'original-dst';

export interface Cluster {
  /** `outbound|9080|v1|reviews.default.svc.cluster.local`, `inbound|9080||`, `PassthroughCluster`, `BlackHoleCluster`. */
  name: string;
  discovery: ClusterDiscovery;
  /** Upstream protocol: `http1`, `http2` (h2/h2c, gRPC), `auto` (follow the downstream), `tcp`. */
  protocol: 'http1' | 'http2' | 'auto' | 'tcp';
  /** The service the cluster reaches, for metrics (`destination_service`). */
  service?: { host: string; name: string; namespace: string; port: number; subset?: string };
  loadBalancer: LoadBalancer;
  connectTimeoutMs: number;
  idleTimeoutMs?: number;
  circuitBreakers: CircuitBreakers;
  outlierDetection?: OutlierDetection;
  tls?: UpstreamTls;
  /**
   * Source address of connections to the endpoints (Envoy's upstream_bind_config). A sidecar
   * under iptables capture connects to its own app from 127.0.0.6, which capture lets through.
   */
  upstreamBindAddress?: string;
  /**
   * SO_KEEPALIVE on the connections to the endpoints (Envoy's upstream_connection_options), from
   * meshConfig.tcpKeepalive and the DestinationRule's; `{}` keeps the OS's timings.
   */
  tcpKeepalive?: TcpKeepalive;
  source?: ConfigSource;
}

/** Envoy's TcpKeepalive; absent fields keep the OS's value. */
export interface TcpKeepalive {
  probes?: number;
  /** Idle time before the first probe, whole seconds in ms (Envoy's keepalive_time). */
  timeMs?: number;
  intervalMs?: number;
}

export type LoadBalancer =
  | { policy: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH' }
  | { policy: 'RING_HASH'; minimumRingSize: number }
  | { policy: 'MAGLEV'; tableSize: number };

export interface CircuitBreakers {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
}

export interface OutlierDetection {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

export interface UpstreamTls {
  mode: 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
  /** Secret names delivered with the config (ISTIO_MUTUAL: `default` and `ROOTCA`). */
  certificate?: string;
  validationContext?: string;
  sni?: string;
  subjectAltNames?: string[];
  alpn?: string[];
  insecureSkipVerify?: boolean;
}

export interface ClusterLoadAssignment {
  cluster: string;
  endpoints: Endpoint[];
}

export interface Endpoint {
  /** An IP, or `unix:///path` for a Unix domain socket (then `port` is 0). */
  address: string;
  port: number;
  weight: number;
  labels: Record<string, string>;
  /** Workload identity, for metrics and the expected peer SAN. */
  workload?: { name: string; namespace: string; serviceAccount: string };
  /** `istio`: the endpoint has a sidecar, so auto mTLS sends ISTIO_MUTUAL to it. */
  tlsMode: 'istio' | 'disabled';
  healthy: boolean;
  /** `region/zone/subzone` of the endpoint (Envoy's LocalityLbEndpoints.locality); absent: none. */
  locality?: string;
  /**
   * Envoy's priority level relative to this proxy (0 = nearest, the default); traffic spills to
   * higher numbers only as lower levels lose healthy endpoints (overprovisioning factor 1.4).
   */
  priority?: number;
  /**
   * The weight of this endpoint's locality within its priority (Envoy's locality_weighted_lb_config
   * with LocalityLbEndpoints.load_balancing_weight): when any endpoint of a cluster carries one,
   * a locality is picked first by these weights, then an endpoint within it.
   */
  localityWeight?: number;
}

// ---------------------------------------------------------------- security policy

/**
 * One RequestAuthentication jwtRule, as Envoy's jwt_authn provider (Istio's `origins-<i>`). The
 * compiler fills the token locations explicitly (Authorization `Bearer ` and `access_token` when
 * the rule names none); a proxy given none at all uses the same defaults, as Envoy does.
 */
export interface JwtRule {
  issuer: string;
  /** A token must carry one of these in `aud`; empty accepts any (Envoy's provider audiences). */
  audiences: string[];
  /** Inline JWKS (JSON text), as istiod inlines fetched keys. */
  jwks?: string;
  /** Fetched by the proxy; with neither `jwks` nor `jwksUri`, OpenID discovery on the issuer. */
  jwksUri?: string;
  /** Timeout of one JWKS fetch (the rule's `timeout`, Istio's default 5 s). */
  jwksFetchTimeoutMs?: number;
  fromHeaders: { name: string; prefix: string }[];
  fromParams: string[];
  fromCookies: string[];
  forwardOriginalToken: boolean;
  /** Header that gets the token's payload segment (base64url) on success. */
  outputPayloadToHeader?: string;
  outputClaimToHeaders: { header: string; claim: string }[];
  /** Claims whose string value reaches claim matches as a space-split list (`scope`, `permission` always). */
  spaceDelimitedClaims?: string[];
  source?: ConfigSource;
}

/**
 * One AuthorizationPolicy as it applies to one filter chain (Envoy's RBAC policies of Istio's
 * `ns[<ns>]-policy[<name>]-rule[<i>]`). For a TCP chain the compiler has already applied Istio's
 * rule for HTTP-only fields: an ALLOW rule that uses one is dropped, a DENY, AUDIT or CUSTOM rule
 * loses just those fields (so it matches more).
 *
 * Values use Istio's forms: `abc` exact, `abc*` prefix, `*abc` suffix, `*` any non-empty value.
 * Within a source, operation or condition the fields are ANDed and the values of one field ORed;
 * `notX` holds when none of its values match.
 */
export interface AuthorizationPolicy {
  /** `ns[<namespace>]-policy[<name>]`, Istio's RBAC policy name (the access log's code details add `-rule[<i>]`). */
  name: string;
  action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /**
   * CUSTOM: the extension provider. When the chain's filter carries `extAuthz` for it, a matching
   * request is checked by that service; otherwise (unknown, unsupported or unresolvable provider)
   * the policy denies what its rules match, as Istio does for a bad CUSTOM action.
   */
  provider?: string;
  /** CUSTOM: why the provider cannot be called (the policy then denies what it matches), for `proxy-config`. */
  providerError?: string;
  /** `istio.io/dry-run: "true"` (ALLOW and DENY only): evaluated, counted and logged, never enforced. */
  dryRun?: boolean;
  /** Empty: the policy matches nothing (an ALLOW `spec: {}` then denies every request). */
  rules: AuthorizationRule[];
  source?: ConfigSource;
}

export interface AuthorizationRule {
  /** Index in the resource's `spec.rules`. */
  index: number;
  /** ORed; empty matches any source. */
  from: AuthorizationSource[];
  /** ORed; empty matches any operation. */
  to: AuthorizationOperation[];
  /** ANDed. */
  when: AuthorizationCondition[];
}

/** `from.source`. Principals are `<trust-domain>/ns/<ns>/sa/<sa>`; `serviceAccounts` are completed to `<ns>/<sa>`. */
export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  /** `<iss>/<sub>` of the validated JWT (HTTP only). */
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  trustDomains?: string[];
  notTrustDomains?: string[];
  /** Addresses or CIDR ranges of the connection's peer. */
  ipBlocks?: string[];
  notIpBlocks?: string[];
  /** Addresses or CIDR ranges of the original client (X-Forwarded-For on a sidecar's inbound side). */
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

/** `to.operation`. `hosts`, `methods` and `paths` are HTTP only; paths are matched after normalization. */
export interface AuthorizationOperation {
  /** Matched against the Host (`:authority`) case-insensitively, port included. */
  hosts?: string[];
  notHosts?: string[];
  ports?: number[];
  notPorts?: number[];
  methods?: string[];
  notMethods?: string[];
  /** Also `{*}` (one segment) and `{**}` (the rest) templates. */
  paths?: string[];
  notPaths?: string[];
}

/** A `when` condition, its key split into the attribute and its bracketed names. */
export interface AuthorizationCondition {
  /** `source.ip`, `request.headers`, `request.auth.claims`, `experimental.envoy.filters.<f>`... */
  key: string;
  /** `request.headers[X-Token]` -> `['x-token']`; `request.auth.claims[a][b]` -> `['a', 'b']`. */
  names?: string[];
  values?: string[];
  notValues?: string[];
}

/**
 * An `envoyExtAuthzHttp` extension provider as Envoy's ext_authz HTTP filter runs it: the check is
 * an HTTP request through `cluster` (`outbound|<port>||<host>`, so it gets that cluster's load
 * balancing and mTLS), with the original method, `pathPrefix` + the original path, and only the
 * allowed headers; 200 allows, any other status denies with the service's answer, and a failure
 * (connect error, timeout, 5xx) answers `statusOnError` unless `failOpen`.
 *
 * Header lists use Istio's forms, matched case-insensitively: `x-name` exact, `x-*` prefix, `*-id` suffix.
 */
export interface ExtAuthzService {
  /** meshConfig.extensionProviders[].name. */
  provider: string;
  cluster: string;
  timeoutMs: number;
  /** Prepended to the request's path (with its query) in the check. */
  pathPrefix: string;
  failOpen: boolean;
  /** Sent when the check fails (default 403). */
  statusOnError: number;
  /** Request headers copied into the check besides Host, Method, Path, Content-Length and Authorization, which always go. */
  includeRequestHeaders: string[];
  /** Added to the check (includeAdditionalHeadersInCheck), sorted by name. */
  includeAdditionalHeaders: { name: string; value: string }[];
  /** includeRequestBodyInCheck: the downstream body buffered up to `maxRequestBytes` and sent in the check. */
  includeRequestBody?: { maxRequestBytes: number; allowPartialMessage: boolean };
  /** Check-response headers copied onto the upstream request on allow. */
  headersToUpstreamOnAllow: string[];
  /** Check-response headers added to the client's response on allow. */
  headersToDownstreamOnAllow: string[];
  /** Check-response headers sent to the client on deny; empty: all of them but Host. */
  headersToDownstreamOnDeny: string[];
}
