/**
 * The mesh's tracing settings, from where Istio takes them (pilot/pkg/networking/core/tracing.go):
 * the sampling percentage from a mesh-wide Telemetry resource's randomSamplingPercentage, else
 * meshConfig.defaultConfig.tracing.sampling when set (non-zero), else values.pilot.traceSampling
 * (PILOT_TRACE_SAMPLING), else 1%; the collector from the Telemetry resource's provider or
 * meshConfig.defaultProviders.tracing (a `zipkin` extension provider: `service:port`), else the
 * legacy defaultConfig.tracing.zipkin.address. `enableTracing: false` turns tracing off unless a
 * Telemetry resource configures it. Only mesh-wide Telemetry (root namespace, no selector) is read.
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { MeshOptions } from './types.js';

type MeshConfig = NonNullable<ResourceOf<'IstioOperator'>['spec']['meshConfig']>;

export function meshTracing(meshConfigs: readonly MeshConfig[], traceSampling: number | null | undefined, resources: readonly AnyResource[], rootNamespace: string): MeshOptions['tracing'] {
  const last = <T>(pick: (mc: MeshConfig) => T | undefined | null): T | undefined => {
    let out: T | undefined;
    for (const mc of meshConfigs) {
      const v = pick(mc);
      if (v !== undefined && v !== null) out = v;
    }
    return out;
  };
  const telemetry = resources.find((r): r is ResourceOf<'Telemetry'> => r.kind === 'Telemetry' && r.metadata.namespace === rootNamespace && !r.spec.selector && !r.spec.targetRef && !r.spec.targetRefs && (r.spec.tracing?.length ?? 0) > 0);
  const rule = telemetry?.spec.tracing?.[0];
  if (last((mc) => mc.enableTracing) === false && rule === undefined) return undefined;

  const proxySampling = last((mc) => mc.defaultConfig?.tracing?.sampling);
  const samplingPercent = rule?.randomSamplingPercentage ?? (proxySampling ? proxySampling : undefined) ?? traceSampling ?? 1;
  if (rule?.disableSpanReporting === true) return { samplingPercent };

  const providerName = rule?.providers?.[0]?.name ?? last((mc) => mc.defaultProviders?.tracing?.[0]);
  const provider = providerName === undefined ? undefined : last((mc) => mc.extensionProviders?.find((p) => p.name === providerName));
  const zipkin = provider?.zipkin;
  const address = zipkin?.service ? `${zipkin.service}:${zipkin.port ?? 9411}` : last((mc) => mc.defaultConfig?.tracing?.zipkin?.address ?? mc.defaultConfig?.zipkinAddress);
  return { samplingPercent, ...(address ? { zipkinAddress: address } : {}) };
}
