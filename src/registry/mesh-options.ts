/**
 * Mesh-wide options with Istio's defaults (pkg/config/mesh/mesh.go DefaultMeshConfig), optionally
 * overridden by the meshConfig of an IstioOperator among the resources (`spec.meshConfig` wins
 * over `spec.values.meshConfig`, as istioctl merges them).
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { MeshOptions } from './types.js';
import { meshTracing, telemetryProviders } from './mesh-tracing.js';
import { authzProviders } from './authz-providers.js';

export function defaultMeshOptions(): MeshOptions {
  return {
    rootNamespace: 'istio-system',
    domainSuffix: 'cluster.local',
    trustDomain: 'cluster.local',
    // The mesh default is ALLOW_ANY; the proto's zero value (REGISTRY_ONLY) is not the default.
    outboundTrafficPolicy: 'ALLOW_ANY',
    enableAutoMtls: true,
    connectTimeoutMs: 10_000,
    pathNormalization: 'BASE',
    // values.pilot.traceSampling defaults to 1.0 (%).
    tracing: { samplingPercent: 1 },
    defaultServiceExportTo: ['*'],
    defaultVirtualServiceExportTo: ['*'],
    defaultDestinationRuleExportTo: ['*'],
    // Istio's DefaultMeshConfig enables locality load balancing (failover needs outlier detection).
    localityLbSetting: { enabled: true },
  };
}

type MeshConfig = NonNullable<ResourceOf<'IstioOperator'>['spec']['meshConfig']>;

/**
 * The options for a mesh installed by an IstioOperator in `resources` (defaults when none): the
 * one of `revision` when given (a control plane reads its own revision's installed state,
 * `installed-state*` preferred; `default` and '' are the default revision), else the first.
 */
export function meshOptionsFrom(resources: readonly AnyResource[], revision?: string): MeshOptions {
  const operators = resources.filter((r): r is ResourceOf<'IstioOperator'> => r.kind === 'IstioOperator');
  const operator = revision === undefined ? operators[0] : operatorOfRevision(operators, revision);
  const mesh = defaultMeshOptions();
  const fromValues = (operator?.spec.values?.meshConfig ?? undefined) as MeshConfig | undefined;
  const meshConfigs = [fromValues, operator?.spec.meshConfig ?? undefined].filter((mc): mc is MeshConfig => mc !== undefined && mc !== null);
  for (const mc of meshConfigs) apply(mesh, mc);
  // A mesh-wide Telemetry resource configures tracing with or without an IstioOperator.
  const tracing = meshTracing(meshConfigs, operator?.spec.values?.pilot?.traceSampling, resources, mesh.rootNamespace);
  if (tracing) mesh.tracing = tracing;
  else delete mesh.tracing;
  mesh.telemetryProviders = telemetryProviders(meshConfigs, operator?.spec.values?.pilot?.traceSampling);
  return mesh;
}

function operatorOfRevision(operators: readonly ResourceOf<'IstioOperator'>[], revision: string): ResourceOf<'IstioOperator'> | undefined {
  const wanted = revision === 'default' ? '' : revision;
  const ofRevision = operators.filter((o) => (o.spec.revision === 'default' ? '' : o.spec.revision ?? '') === wanted);
  return ofRevision.find((o) => o.metadata.name.startsWith('installed-state')) ?? ofRevision[0];
}

function apply(mesh: MeshOptions, mc: MeshConfig): void {
  if (mc.rootNamespace) mesh.rootNamespace = mc.rootNamespace;
  if (mc.trustDomain) mesh.trustDomain = mc.trustDomain;
  const mode = mc.outboundTrafficPolicy?.mode;
  // ALLOW_ANY_DYNAMIC_DNS forwards unknown destinations like ALLOW_ANY does.
  if (mode) mesh.outboundTrafficPolicy = mode === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY';
  if (typeof mc.enableAutoMtls === 'boolean') mesh.enableAutoMtls = mc.enableAutoMtls;
  if (mc.connectTimeout !== undefined) mesh.connectTimeoutMs = mc.connectTimeout;
  const normalization = mc.pathNormalization?.normalization;
  if (normalization) mesh.pathNormalization = normalization === 'DEFAULT' ? 'BASE' : normalization;
  applyAccessLogProviders(mesh, mc);
  if (mc.extensionProviders?.length) authzProviders(mc.extensionProviders, (mesh.authzProviders ??= {}));
  if (mc.accessLogFile) mesh.accessLog = { encoding: mc.accessLogEncoding ?? 'TEXT', file: mc.accessLogFile, ...(mc.accessLogFormat ? { format: mc.accessLogFormat } : {}) };
  const retry = mc.defaultHttpRetryPolicy;
  if (retry) {
    mesh.defaultHttpRetryPolicy = {
      ...(retry.attempts !== undefined ? { attempts: retry.attempts } : {}),
      ...(retry.perTryTimeout !== undefined ? { perTryTimeoutMs: retry.perTryTimeout } : {}),
      ...(retry.retryOn !== undefined ? { retryOn: retry.retryOn } : {}),
      ...(typeof retry.retryRemoteLocalities === 'boolean' ? { retryRemoteLocalities: retry.retryRemoteLocalities } : {}),
      ...(retry.backoff !== undefined ? { backoffMs: retry.backoff } : {}),
    };
  }
  if (mc.defaultServiceExportTo?.length) mesh.defaultServiceExportTo = mc.defaultServiceExportTo;
  if (mc.defaultVirtualServiceExportTo?.length) mesh.defaultVirtualServiceExportTo = mc.defaultVirtualServiceExportTo;
  if (mc.defaultDestinationRuleExportTo?.length) mesh.defaultDestinationRuleExportTo = mc.defaultDestinationRuleExportTo;
  if (mc.localityLbSetting) mesh.localityLbSetting = mc.localityLbSetting;
  if (mc.h2UpgradePolicy) mesh.h2UpgradePolicy = mc.h2UpgradePolicy;
  if (mc.tcpKeepalive) mesh.tcpKeepalive = mc.tcpKeepalive;
}

/**
 * Access-log providers by name, for Telemetry resources: Istio's DefaultMeshConfig defines
 * `envoy` (a file log to /dev/stdout); configured providers replace a built-in of the same name.
 * An envoyFileAccessLog without logFormat writes Istio's default text format.
 */
function applyAccessLogProviders(mesh: MeshOptions, mc: MeshConfig): void {
  const providers = mesh.accessLogProviders ?? { envoy: { encoding: 'TEXT', file: '/dev/stdout' } };
  for (const p of mc.extensionProviders ?? []) {
    const f = p.envoyFileAccessLog;
    if (!f) {
      providers[p.name] = null;
      continue;
    }
    const labels = f.logFormat?.labels;
    providers[p.name] = {
      encoding: labels ? 'JSON' : 'TEXT',
      file: f.path || '/dev/stdout',
      ...(labels ? { format: JSON.stringify(labels) } : f.logFormat?.text ? { format: f.logFormat.text } : {}),
    };
  }
  mesh.accessLogProviders = providers;
  const defaults = mc.defaultProviders?.accessLogging;
  if (defaults) mesh.defaultAccessLogProviders = [...defaults];
}
