/**
 * Mesh-wide options with Istio's defaults (pkg/config/mesh/mesh.go DefaultMeshConfig), optionally
 * overridden by the meshConfig of an IstioOperator among the resources (`spec.meshConfig` wins
 * over `spec.values.meshConfig`, as istioctl merges them).
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { MeshOptions } from './types.js';

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
  };
}

type MeshConfig = NonNullable<ResourceOf<'IstioOperator'>['spec']['meshConfig']>;

/** The options for a mesh installed by the first IstioOperator in `resources` (defaults when none). */
export function meshOptionsFrom(resources: readonly AnyResource[]): MeshOptions {
  const operator = resources.find((r): r is ResourceOf<'IstioOperator'> => r.kind === 'IstioOperator');
  const mesh = defaultMeshOptions();
  if (!operator) return mesh;
  const fromValues = (operator.spec.values?.meshConfig ?? undefined) as MeshConfig | undefined;
  for (const mc of [fromValues, operator.spec.meshConfig ?? undefined]) if (mc) apply(mesh, mc);
  const sampling = operator.spec.values?.pilot?.traceSampling;
  if (typeof sampling === 'number') mesh.tracing = { ...mesh.tracing, samplingPercent: sampling };
  return mesh;
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
  if (mc.accessLogFile) mesh.accessLog = { encoding: mc.accessLogEncoding ?? 'TEXT', ...(mc.accessLogFormat ? { format: mc.accessLogFormat } : {}) };
  if (mc.enableTracing === false) delete mesh.tracing;
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
}
