/**
 * Istio's MeshConfig (istio/api mesh/v1alpha1/config.proto), as written in IstioOperator
 * `spec.meshConfig` (and `values.meshConfig`). Istio parses it strictly, so every field of the
 * proto is known here and anything else is an error. Fields Weft acts on are typed in detail;
 * rarely used deep messages are accepted as mappings. Checks are ported from ValidateMeshConfig
 * in istio/istio pkg/config/validation/agent/validation.go.
 */
import type { ValidationContext } from '../resource.js';
import { z, duration, oneOf, uint32, int32 } from '../schema.js';
import { mapping, extensionProvider, defaultProviders, providerKind } from './mesh-config-providers.js';
import { proxyConfig, validateProxyConfig } from './mesh-config-proxy.js';

export { type ExtensionProvider } from './mesh-config-providers.js';
export { type ProxyConfig } from './mesh-config-proxy.js';

/** ConnectionPoolSettings.TCPSettings.TcpKeepalive; durations in ms. */
export const tcpKeepalive = z.strictObject({
  probes: uint32.optional(),
  time: duration().optional(),
  interval: duration().optional(),
});

/** networking.v1alpha3.LocalityLoadBalancerSetting. */
export const localityLbSetting = z.strictObject({
  distribute: z.array(z.strictObject({ from: z.string().optional(), to: z.record(z.string(), uint32).optional() })).optional(),
  failover: z.array(z.strictObject({ from: z.string().optional(), to: z.string().optional() })).optional(),
  failoverPriority: z.array(z.string()).optional(),
  enabled: z.boolean().nullable().optional(),
});
export type LocalityLbSetting = z.output<typeof localityLbSetting>;

/** networking.v1alpha3.HTTPRetry; durations in ms. */
export const httpRetry = z.strictObject({
  attempts: int32.optional(),
  perTryTimeout: duration().optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().nullable().optional(),
  retryIgnorePreviousHosts: z.boolean().nullable().optional(),
  backoff: duration().optional(),
});
export type HttpRetry = z.output<typeof httpRetry>;

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.strictObject({
    key: z.string().optional(),
    operator: z.string().optional(),
    values: z.array(z.string()).optional(),
  })).optional(),
});

const tlsConfig = z.strictObject({
  minProtocolVersion: z.enum(['TLS_AUTO', 'TLSV1_2', 'TLSV1_3']).optional(),
  ecdhCurves: z.array(z.string()).optional(),
  cipherSuites: z.array(z.string()).optional(),
});

const visibility = z.enum(['VISIBILITY_UNSPECIFIED', 'NONE', 'NAMESPACE', 'PUBLIC']);
const exportTo = z.array(z.string()).optional();

export const outboundTrafficPolicyMode = z.enum(['REGISTRY_ONLY', 'ALLOW_ANY', 'ALLOW_ANY_DYNAMIC_DNS']);
export const pathNormalizationType = z.enum(['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES']);

export const meshConfig = z.strictObject({
  proxyListenPort: int32.optional(),
  proxyInboundListenPort: int32.optional(),
  proxyHttpPort: int32.optional(),
  /** ms; Istio's default is 10s. */
  connectTimeout: duration().optional(),
  hboneIdleTimeout: duration({ min: 0 }).optional(),
  /** ms; 0 disables the protocol sniffing timeout (Istio's default). */
  protocolDetectionTimeout: duration({ min: 0 }).optional(),
  tcpKeepalive: tcpKeepalive.optional(),
  ingressClass: z.string().optional(),
  ingressService: z.string().optional(),
  ingressControllerMode: z.enum(['UNSPECIFIED', 'OFF', 'DEFAULT', 'STRICT']).optional(),
  ingressSelector: z.string().optional(),
  enableTracing: z.boolean().optional(),
  /** '' disables access logs; `/dev/stdout` writes them to the proxy's output. */
  accessLogFile: z.string().optional(),
  accessLogFormat: z.string().optional(),
  accessLogEncoding: z.enum(['TEXT', 'JSON']).optional(),
  enableEnvoyAccessLogService: z.boolean().optional(),
  disableEnvoyListenerLog: z.boolean().optional(),
  defaultConfig: proxyConfig.optional(),
  outboundTrafficPolicy: z.strictObject({ mode: outboundTrafficPolicyMode.optional(), tls: mapping.optional() }).optional(),
  inboundTrafficPolicy: z.strictObject({ mode: z.enum(['PASSTHROUGH', 'LOCALHOST']).optional() }).optional(),
  configSources: z.array(z.strictObject({
    address: z.string().optional(),
    tlsSettings: mapping.optional(),
    subscribedResources: z.array(z.enum(['SERVICE_REGISTRY'])).optional(),
  })).optional(),
  enableAutoMtls: z.boolean().nullable().optional(),
  trustDomain: z.string().optional(),
  trustDomainAliases: z.array(z.string()).optional(),
  caCertificates: z.array(oneOf({
    pem: z.string().optional(),
    spiffeBundleUrl: z.string().optional(),
    certSigners: z.array(z.string()).optional(),
    trustDomains: z.array(z.string()).optional(),
  }, ['pem', 'spiffeBundleUrl'], false)).optional(),
  defaultServiceExportTo: exportTo,
  defaultVirtualServiceExportTo: exportTo,
  defaultDestinationRuleExportTo: exportTo,
  rootNamespace: z.string().optional(),
  localityLbSetting: localityLbSetting.optional(),
  zoneAwareLbSetting: mapping.optional(),
  dnsRefreshRate: duration().optional(),
  h2UpgradePolicy: z.enum(['DO_NOT_UPGRADE', 'UPGRADE']).optional(),
  inboundClusterStatName: z.string().optional(),
  outboundClusterStatName: z.string().optional(),
  /** @deprecated Istio no longer provisions DNS certificates. */
  certificates: z.array(z.strictObject({ secretName: z.string().optional(), dnsNames: z.array(z.string()).optional() })).optional(),
  serviceSettings: z.array(z.strictObject({
    settings: z.strictObject({ clusterLocal: z.boolean().optional() }).optional(),
    hosts: z.array(z.string()).optional(),
  })).optional(),
  serviceScopeConfigs: z.array(z.strictObject({
    namespaceSelector: labelSelector.optional(),
    servicesSelector: labelSelector.optional(),
    scope: z.enum(['LOCAL', 'GLOBAL']).optional(),
  })).optional(),
  enablePrometheusMerge: z.boolean().nullable().optional(),
  /** @deprecated */
  verifyCertificateAtClient: z.boolean().nullable().optional(),
  ca: z.strictObject({
    address: z.string().optional(),
    tlsSettings: mapping.optional(),
    requestTimeout: duration().optional(),
    istiodSide: z.boolean().optional(),
  }).optional(),
  extensionProviders: z.array(extensionProvider).optional(),
  defaultProviders: defaultProviders.optional(),
  discoverySelectors: z.array(labelSelector).optional(),
  pathNormalization: z.strictObject({ normalization: pathNormalizationType.optional() }).optional(),
  defaultHttpRetryPolicy: httpRetry.optional(),
  /** Newer Istio: the retry policy of sidecar inbound routes (attempts, retryOn, backoff only). */
  defaultInboundHttpRetryPolicy: httpRetry.optional(),
  meshMTLS: tlsConfig.optional(),
  tlsDefaults: tlsConfig.optional(),
  defaultTrafficPolicy: z.strictObject({ connectionPool: mapping.optional(), outlierDetection: mapping.optional() }).optional(),
  serviceEntryVisibility: z.strictObject({
    defaultVisibility: visibility.optional(),
    applyToSidecars: z.boolean().optional(),
    policies: z.array(z.strictObject({
      visibility: visibility.optional(),
      matchingRules: z.array(z.strictObject({ namespaceSelector: labelSelector.optional() })).optional(),
    })).optional(),
  }).optional(),
});
export type MeshConfig = z.output<typeof meshConfig>;

type Path = (string | number)[];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const VALID_ECDH_CURVES = new Set(['P-224', 'P-256', 'P-521', 'P-384', 'X25519', 'X25519Kyber768Draft00', 'X25519MLKEM768']);
const RETRY_ON = new Set(['5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);

/** Istio's ValidateMeshConfig, for the fields the user wrote (Istio's defaults are valid). */
export function validateMeshConfig(mc: MeshConfig, at: Path, ctx: ValidationContext): void {
  for (const field of ['proxyListenPort', 'proxyInboundListenPort', 'proxyHttpPort'] as const) {
    const port = mc[field];
    if (port !== undefined && port !== 0 && (port < 1 || port > 65535)) ctx.error([...at, field], `port number ${port} must be in the range 1..65535`);
  }
  if (mc.proxyListenPort === 0) ctx.error([...at, 'proxyListenPort'], 'invalid proxy listen port: port number 0 must be in the range 1..65535');
  if (mc.connectTimeout !== undefined) {
    if (mc.connectTimeout > 3_600_000) ctx.error([...at, 'connectTimeout'], 'invalid connect timeout: must be at most 1h');
    msPrecision(mc.connectTimeout, [...at, 'connectTimeout'], ctx);
  }
  if (mc.protocolDetectionTimeout !== undefined) msPrecision(mc.protocolDetectionTimeout, [...at, 'protocolDetectionTimeout'], ctx);
  if (mc.defaultConfig) validateProxyConfig(mc.defaultConfig, [...at, 'defaultConfig'], ctx);
  if (mc.trustDomain !== undefined) {
    const problem = trustDomainProblem(mc.trustDomain);
    if (problem) ctx.error([...at, 'trustDomain'], `trustDomain: ${problem}`);
  }
  mc.trustDomainAliases?.forEach((alias, i) => {
    const problem = trustDomainProblem(alias);
    if (problem) ctx.error([...at, 'trustDomainAliases', i], `trustDomainAliases[${i}], domain \`${alias}\` : ${problem}`);
  });
  mc.serviceSettings?.forEach((s, i) => s.hosts?.forEach((host, j) => {
    if (!wildcardDomainOk(host)) ctx.error([...at, 'serviceSettings', i, 'hosts', j], `serviceSettings[${i}], host \`${host}\`: domain name "${host}" invalid`);
  }));
  if (mc.localityLbSetting) checkLocalityLb(mc.localityLbSetting, [...at, 'localityLbSetting'], ctx);
  if (mc.meshMTLS?.ecdhCurves !== undefined) ctx.error([...at, 'meshMTLS', 'ecdhCurves'], 'mesh TLS does not support ECDH curves configuration');
  const curves = mc.tlsDefaults?.ecdhCurves ?? [];
  const unknown = curves.filter((c) => c !== '' && !VALID_ECDH_CURVES.has(c));
  if (unknown.length > 0) ctx.warning([...at, 'tlsDefaults', 'ecdhCurves'], `detected unrecognized ECDH curves: [${[...new Set(unknown)].sort().join(' ')}]`);
  const dup = curves.filter((c, i) => VALID_ECDH_CURVES.has(c) && curves.indexOf(c) !== i);
  if (dup.length > 0) ctx.warning([...at, 'tlsDefaults', 'ecdhCurves'], `detected duplicate ECDH curves: [${[...new Set(dup)].sort().join(' ')}]`);
  if (mc.defaultHttpRetryPolicy) checkRetry(mc.defaultHttpRetryPolicy, [...at, 'defaultHttpRetryPolicy'], ctx);
  if (mc.defaultInboundHttpRetryPolicy) checkInboundRetry(mc.defaultInboundHttpRetryPolicy, [...at, 'defaultInboundHttpRetryPolicy'], ctx);
  checkProviders(mc, at, ctx);
}

function msPrecision(ms: number, path: Path, ctx: ValidationContext): void {
  if (!Number.isInteger(ms)) ctx.error(path, 'only durations to ms precision are supported');
}

function trustDomainProblem(domain: string): string | undefined {
  if (domain === '') return 'empty domain name not allowed';
  const parts = domain.split('.');
  const ok = parts.every((label, i) => (i === parts.length - 1 && label === '') || DNS1123_LABEL.test(label));
  return ok ? undefined : `trust domain name "${domain}" invalid`;
}

/** Istio's ValidateWildcardDomain: a DNS name whose first label may start with `*`. */
function wildcardDomainOk(domain: string): boolean {
  if (domain === '' || domain.length > 255) return false;
  const [first = '', ...rest] = domain.split('.');
  if (first !== '*' && !/^\*?[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(first)) return false;
  if (rest.length === 0) return true;
  if (/^\d+$/.test(rest[rest.length - 1] ?? '')) return false;
  return rest.every((l, i) => (i === rest.length - 1 && l === '') || DNS1123_LABEL.test(l));
}

/** ValidateLocalityLbSetting: distribute weights, failover regions. */
export function checkLocalityLb(lb: LocalityLbSetting, at: Path, ctx: ValidationContext): void {
  if ((lb.distribute?.length ?? 0) > 0 && (lb.failover?.length ?? 0) > 0) {
    ctx.error(at, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  if ((lb.failover?.length ?? 0) > 0) {
    const topo = lb.failoverPriority?.find((l) => ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'].includes(l));
    if (topo) ctx.error([...at, 'failoverPriority'], `can not simultaneously set 'failover' and topology label '${topo}' in 'failover_priority'`);
  }
  lb.distribute?.forEach((d, i) => {
    const weights = Object.values(d.to ?? {});
    if (weights.some((w) => w <= 0 || w > 100)) ctx.error([...at, 'distribute', i, 'to'], 'locality weight must be in range [1, 100]');
    else if (weights.reduce((a, b) => a + b, 0) !== 100) ctx.error([...at, 'distribute', i, 'to'], `total locality weight ${weights.reduce((a, b) => a + b, 0)} != 100`);
  });
  lb.failover?.forEach((f, i) => {
    const path = [...at, 'failover', i];
    if (f.from === f.to) ctx.error(path, 'locality lb failover settings must specify different regions');
    if (f.from?.includes('/') || f.to?.includes('/')) ctx.error(path, 'locality lb failover only specify region');
    if (f.from?.includes('*') || f.to?.includes('*')) ctx.error(path, "locality lb failover region should not contain '*' wildcard");
  });
}

/** ValidateHTTPRetry, shared with VirtualService retries. */
export function checkRetry(r: HttpRetry, at: Path, ctx: ValidationContext): void {
  const attempts = r.attempts ?? 0;
  if (attempts < 0) ctx.error([...at, 'attempts'], 'attempts cannot be negative');
  if (attempts === 0 && (r.perTryTimeout !== undefined || (r.retryOn ?? '') !== '' || r.retryRemoteLocalities != null)) {
    ctx.error(at, 'http retry policy configured when attempts are set to 0 (disabled)');
  }
  if (r.perTryTimeout !== undefined) msPrecision(r.perTryTimeout, [...at, 'perTryTimeout'], ctx);
  if (r.backoff !== undefined) msPrecision(r.backoff, [...at, 'backoff'], ctx);
  for (const policy of (r.retryOn ?? '').split(',')) {
    if (r.retryOn === undefined || r.retryOn === '') break;
    const code = /^\d{3}$/.test(policy) ? Number(policy) : 0;
    if (!RETRY_ON.has(policy) && !(code >= 100 && code <= 599)) ctx.error([...at, 'retryOn'], `"${policy}" is not a valid retryOn policy`);
  }
}

function checkInboundRetry(r: HttpRetry, at: Path, ctx: ValidationContext): void {
  checkRetry(r, at, ctx);
  if ((r.attempts ?? 0) === 0 && r.backoff !== undefined) {
    ctx.error([...at, 'backoff'], 'invalid default inbound http retry policy: backoff configured when attempts are set to 0 (disabled)');
  }
  if (r.perTryTimeout !== undefined) ctx.warning([...at, 'perTryTimeout'], 'perTryTimeout is ignored by the default inbound http retry policy');
  if (r.retryRemoteLocalities != null) ctx.warning([...at, 'retryRemoteLocalities'], 'retryRemoteLocalities is ignored by the default inbound http retry policy');
  if (r.retryIgnorePreviousHosts != null) ctx.warning([...at, 'retryIgnorePreviousHosts'], 'retryIgnorePreviousHosts is ignored by the default inbound http retry policy');
}

/** Names Istio always defines (DefaultMeshConfig), so defaultProviders may use them. */
const BUILTIN_PROVIDERS = ['prometheus', 'stackdriver', 'envoy'];

/**
 * Istio only logs invalid extension providers ("can be ignored if the given extension provider is
 * not used"); duplicate names and dangling defaultProviders are reported here as warnings.
 */
function checkProviders(mc: MeshConfig, at: Path, ctx: ValidationContext): void {
  const names = new Map<string, number>();
  mc.extensionProviders?.forEach((p, i) => {
    if (names.has(p.name)) ctx.warning([...at, 'extensionProviders', i, 'name'], `extension provider name "${p.name}" is also used by extensionProviders[${names.get(p.name)}]`);
    else names.set(p.name, i);
    const kind = providerKind(p);
    if (!kind) ctx.warning([...at, 'extensionProviders', i], `extension provider "${p.name}" sets no provider (such as \`prometheus: {}\` or \`zipkin: {...}\`); Istio ignores it`);
    if (kind === 'envoyExtAuthzGrpc') ctx.warning([...at, 'extensionProviders', i, kind], `extension provider "${p.name}": envoyExtAuthzGrpc is not supported by Weft; CUSTOM policies naming it deny the requests their rules match (use envoyExtAuthzHttp)`);
    const service = kind ? (p[kind] as { service?: string } | undefined)?.service : undefined;
    if (kind && kind !== 'prometheus' && kind !== 'envoyFileAccessLog' && kind !== 'stackdriver' && kind !== 'sds' && service === '') {
      ctx.warning([...at, 'extensionProviders', i, kind, 'service'], 'service must not be empty');
    }
  });
  for (const list of ['tracing', 'metrics', 'accessLogging'] as const) {
    mc.defaultProviders?.[list]?.forEach((name, i) => {
      if (!names.has(name) && !BUILTIN_PROVIDERS.includes(name)) {
        ctx.warning([...at, 'defaultProviders', list, i], `defaultProviders.${list} names "${name}", which is not an extension provider`);
      }
    });
  }
}
