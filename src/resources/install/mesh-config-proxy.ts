/**
 * meshConfig.defaultConfig: Istio's ProxyConfig (istio/api mesh/v1alpha1/proxy.proto), the
 * defaults every sidecar and gateway starts with (the `proxy.istio.io/config` annotation
 * overrides them per pod). Every field is modelled; the ones Weft's proxy reads are typed in
 * detail, the rest are accepted so that Istio configs load unchanged.
 */
import type { ValidationContext } from '../resource.js';
import { z, duration, oneOf, uint32, int32, regex } from '../schema.js';
import { mapping } from './mesh-config-providers.js';

const customTag = oneOf({
  literal: z.strictObject({ value: z.string().optional() }).optional(),
  environment: z.strictObject({ name: z.string().optional(), defaultValue: z.string().optional() }).optional(),
  header: z.strictObject({ name: z.string().optional(), defaultValue: z.string().optional() }).optional(),
}, ['literal', 'environment', 'header'], false);

/** ProxyConfig.tracing: the legacy tracer settings (Telemetry + extensionProviders replace them). */
export const proxyTracing = oneOf({
  zipkin: z.strictObject({ address: z.string().optional() }).optional(),
  lightstep: z.strictObject({ address: z.string().optional(), accessToken: z.string().optional() }).optional(),
  datadog: z.strictObject({ address: z.string().optional() }).optional(),
  stackdriver: z.strictObject({
    debug: z.boolean().optional(),
    maxNumberOfAttributes: z.number().int().optional(),
    maxNumberOfAnnotations: z.number().int().optional(),
    maxNumberOfMessageEvents: z.number().int().optional(),
  }).optional(),
  openCensusAgent: z.strictObject({
    address: z.string().optional(),
    context: z.array(z.enum(['UNSPECIFIED', 'W3C_TRACE_CONTEXT', 'GRPC_BIN', 'CLOUD_TRACE_CONTEXT', 'B3'])).optional(),
  }).optional(),
  customTags: z.record(z.string(), customTag).optional(),
  maxPathTagLength: uint32.optional(),
  /** Percentage of requests sampled, 0.0 to 100.0 (Istio's default is 1.0). */
  sampling: z.number().min(0, 'sampling must be in range 0..100').max(100, 'sampling must be in range 0..100').optional(),
  tlsSettings: mapping.optional(),
  enableIstioTags: z.boolean().optional(),
}, ['zipkin', 'lightstep', 'datadog', 'stackdriver', 'openCensusAgent'], false);
export type ProxyTracing = z.output<typeof proxyTracing>;

const forwardClientCertDetails = z.enum(['UNDEFINED', 'SANITIZE', 'FORWARD_ONLY', 'APPEND_FORWARD', 'SANITIZE_SET', 'ALWAYS_FORWARD_ONLY']);
const remoteService = z.strictObject({ address: z.string().optional(), tlsSettings: mapping.optional(), tcpKeepalive: mapping.optional() });
const bool = z.boolean().optional();
const disabled = z.strictObject({ disabled: bool });
const enabled = z.strictObject({ enabled: bool });
const pollDelay = z.strictObject({ pollDelay: duration({ min: 0 }).optional(), fallback: bool });

export const proxyHeaders = z.strictObject({
  forwardedClientCert: forwardClientCertDetails.optional(),
  setCurrentClientCertDetails: z.strictObject({ subject: bool, cert: bool, chain: bool, dns: bool, uri: bool }).optional(),
  requestId: disabled.optional(),
  server: z.strictObject({ disabled: bool, value: z.string().optional() }).optional(),
  attemptCount: disabled.optional(),
  envoyDebugHeaders: disabled.optional(),
  metadataExchangeHeaders: z.strictObject({ mode: z.enum(['UNDEFINED', 'IN_MESH']).optional() }).optional(),
  preserveHttp1HeaderCase: bool,
  xForwardedHost: enabled.optional(),
  xForwardedPort: enabled.optional(),
});

const int32Value = int32.optional();
export const connectionSettings = z.strictObject({
  profile: z.enum(['SIDECAR', 'EDGE']).optional(),
  listenerPerConnectionBufferLimitBytes: int32Value,
  clusterPerConnectionBufferLimitBytes: int32Value,
  httpIdleTimeout: duration({ min: 0 }).optional(),
  httpMaxConnectionDuration: duration({ min: 0 }).optional(),
  httpDrainTimeout: duration({ min: 0 }).optional(),
  httpRequestTimeout: duration({ min: 0 }).optional(),
  httpRequestHeadersTimeout: duration({ min: 0 }).optional(),
  httpStreamIdleTimeout: duration({ min: 0 }).optional(),
  httpMaxStreamDuration: duration({ min: 0 }).optional(),
  httpMaxConcurrentStreams: int32Value,
  http2InitialStreamWindowSize: int32Value,
  http2InitialConnectionWindowSize: int32Value,
  httpHeadersWithUnderscoresAction: z.enum(['HEADERS_WITH_UNDERSCORES_UNSPECIFIED', 'HEADERS_WITH_UNDERSCORES_ALLOW', 'HEADERS_WITH_UNDERSCORES_REJECT_REQUEST', 'HEADERS_WITH_UNDERSCORES_DROP_HEADER']).optional(),
  httpMergeSlashes: bool,
  httpPathWithEscapedSlashesAction: z.enum(['PATH_WITH_ESCAPED_SLASHES_UNSPECIFIED', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD']).optional(),
  listenerConnectionLimit: int32Value,
  globalDownstreamConnectionLimit: int32Value,
});

const clusterName = { serviceCluster: z.string().optional(), tracingServiceName: z.enum(['APP_LABEL_AND_NAMESPACE', 'CANONICAL_NAME_ONLY', 'CANONICAL_NAME_AND_NAMESPACE']).optional() };

export const proxyConfig = oneOf({
  configPath: z.string().optional(),
  binaryPath: z.string().optional(),
  ...clusterName,
  /** ms; whole seconds (Istio's default 45s). */
  drainDuration: duration({ min: 0 }).optional(),
  discoveryAddress: z.string().optional(),
  /** @deprecated */
  discoveryRefreshDelay: duration({ min: 0 }).optional(),
  /** @deprecated use tracing.zipkin.address. */
  zipkinAddress: z.string().optional(),
  statsdUdpAddress: z.string().optional(),
  /** @deprecated use envoyMetricsService. */
  envoyMetricsServiceAddress: z.string().optional(),
  proxyAdminPort: int32.optional(),
  /** @deprecated */
  availabilityZone: z.string().optional(),
  controlPlaneAuthPolicy: z.enum(['NONE', 'MUTUAL_TLS', 'INHERIT']).optional(),
  customConfigFile: z.string().optional(),
  statNameLength: int32.optional(),
  /** Worker threads; 0 means one per CPU core. */
  concurrency: int32.nullable().optional(),
  proxyBootstrapTemplatePath: z.string().optional(),
  interceptionMode: z.enum(['REDIRECT', 'TPROXY', 'NONE']).optional(),
  tracing: proxyTracing.optional(),
  /** @deprecated */
  sds: z.strictObject({ enabled: bool, k8sSaJwtPath: z.string().optional() }).optional(),
  envoyAccessLogService: remoteService.optional(),
  envoyMetricsService: remoteService.optional(),
  /** Environment variables for the proxy agent (ISTIO_META_*, feature flags). */
  proxyMetadata: z.record(z.string(), z.string()).optional(),
  runtimeValues: z.record(z.string(), z.string()).optional(),
  statusPort: int32.optional(),
  extraStatTags: z.array(z.string()).optional(),
  gatewayTopology: z.strictObject({
    numTrustedProxies: uint32.optional(),
    forwardClientCertDetails: forwardClientCertDetails.optional(),
    proxyProtocol: z.strictObject({}).optional(),
  }).optional(),
  /** ms (Istio's default 5s). */
  terminationDrainDuration: duration({ min: 0 }).optional(),
  meshId: z.string().optional(),
  readinessProbe: mapping.optional(),
  proxyStatsMatcher: z.strictObject({
    inclusionPrefixes: z.array(z.string()).optional(),
    inclusionSuffixes: z.array(z.string()).optional(),
    inclusionRegexps: z.array(regex).optional(),
  }).optional(),
  /** Start the app only once the proxy is ready. */
  holdApplicationUntilProxyStarts: z.boolean().nullable().optional(),
  caCertificatesPem: z.array(z.string()).optional(),
  image: z.strictObject({ imageType: z.string().optional() }).optional(),
  privateKeyProvider: oneOf({ cryptomb: pollDelay.optional(), qat: pollDelay.optional() }, ['cryptomb', 'qat'], true).optional(),
  proxyHeaders: proxyHeaders.optional(),
  fileFlushInterval: duration({ min: 0 }).optional(),
  fileFlushMinSizeKb: uint32.optional(),
  statsCompression: bool,
  connectionSettings: connectionSettings.optional(),
}, ['serviceCluster', 'tracingServiceName'], false);
export type ProxyConfig = z.output<typeof proxyConfig>;

type Path = (string | number)[];

/** Ports of ValidateMeshConfigProxyConfig (pkg/config/validation/agent/validation.go) for fields a user sets. */
export function validateProxyConfig(pc: ProxyConfig, at: Path, ctx: ValidationContext): void {
  if (pc.drainDuration !== undefined) {
    if (pc.drainDuration < 1) ctx.error([...at, 'drainDuration'], 'invalid drain duration: duration must be greater than 1ms');
    else if (pc.drainDuration % 1000 !== 0) ctx.error([...at, 'drainDuration'], 'drain time only supports durations to seconds precision');
  }
  for (const field of ['discoveryAddress', 'statsdUdpAddress', 'envoyMetricsServiceAddress'] as const) {
    const address = pc[field];
    if (address) {
      const problem = proxyAddressProblem(address);
      if (problem) ctx.error([...at, field], `invalid ${field} "${address}": ${problem}`);
    }
  }
  if (pc.envoyMetricsServiceAddress) ctx.warning([...at, 'envoyMetricsServiceAddress'], 'envoyMetricsServiceAddress is deprecated, use envoyMetricsService instead');
  for (const field of ['envoyMetricsService', 'envoyAccessLogService'] as const) {
    const address = pc[field]?.address;
    const problem = address ? proxyAddressProblem(address) : undefined;
    if (problem) ctx.error([...at, field, 'address'], `invalid address "${address}": ${problem}`);
  }
  for (const tracer of ['zipkin', 'datadog'] as const) {
    if (pc.tracing?.[tracer] === undefined) continue;
    // Istio substitutes the node IP for $(HOST_IP) at runtime, so validates with a stand-in.
    const problem = proxyAddressProblem((pc.tracing[tracer]?.address ?? '').replace('$(HOST_IP)', '127.0.0.1'));
    if (problem) ctx.error([...at, 'tracing', tracer, 'address'], `invalid ${tracer} config: ${problem}`);
  }
  if (pc.tracing?.lightstep !== undefined) {
    const ls = pc.tracing.lightstep;
    if (!ls.address) ctx.error([...at, 'tracing', 'lightstep'], 'invalid lightstep config: address is required');
    else {
      const problem = proxyAddressProblem(ls.address);
      if (problem) ctx.error([...at, 'tracing', 'lightstep', 'address'], `invalid lightstep config: ${problem}`);
    }
    if (!ls.accessToken) ctx.error([...at, 'tracing', 'lightstep'], 'invalid lightstep config: access token is required');
  }
  for (const field of ['proxyAdminPort', 'statusPort'] as const) {
    const port = pc[field];
    if (port !== undefined && (port < 1 || port > 65535)) ctx.error([...at, field], `port number ${port} must be in the range 1..65535`);
  }
  if (pc.proxyMetadata && 'ISTIO_META_DNS_AUTO_ALLOCATE' in pc.proxyMetadata) {
    ctx.warning([...at, 'proxyMetadata', 'ISTIO_META_DNS_AUTO_ALLOCATE'],
      "'ISTIO_META_DNS_AUTO_ALLOCATE' is deprecated; review https://istio.io/latest/docs/ops/configuration/traffic-management/dns-proxy/#dns-auto-allocation-v2 for information about replacement functionality");
  }
  if (pc.concurrency != null && pc.concurrency < 0) ctx.error([...at, 'concurrency'], 'concurrency must be greater than or equal to 0');
  const pkp = pc.privateKeyProvider;
  const delay = pkp?.cryptomb?.pollDelay ?? pkp?.qat?.pollDelay;
  if (pkp && (pkp.cryptomb ?? pkp.qat) && !delay) {
    ctx.error([...at, 'privateKeyProvider', pkp.cryptomb ? 'cryptomb' : 'qat'], 'invalid private key provider configuration: pollDelay must be non zero');
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Istio's ValidateProxyAddress: `host:port` with a DNS name or an IP. */
export function proxyAddressProblem(address: string): string | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):([^:]*)$/.exec(address);
  if (!m) return `unable to split "${address}": missing port in address`;
  const host = m[1] ?? m[2] ?? '';
  const portText = m[3] ?? '';
  if (!/^\d+$/.test(portText)) return `port (${portText}) is not a number`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port number ${port} must be in the range 1..65535`;
  const labels = host.replace(/\.$/, '').split('.');
  const isName = host.length > 0 && host.length <= 255 && !/^\d+$/.test(labels[labels.length - 1] ?? '') && labels.every((l) => DNS1123_LABEL.test(l));
  const isIp = /^[\d.]+$/.test(host) ? /^(\d{1,3}\.){3}\d{1,3}$/.test(host) && host.split('.').every((o) => Number(o) <= 255) : host.includes(':');
  return isName || isIp ? undefined : `"${host}" is not a valid hostname or an IP address`;
}
