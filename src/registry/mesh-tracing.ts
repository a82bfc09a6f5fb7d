/**
 * The mesh's tracing settings, from where Istio takes them (pilot/pkg/networking/core/tracing.go):
 * the sampling percentage from a mesh-wide Telemetry resource's randomSamplingPercentage, else
 * meshConfig.defaultConfig.tracing.sampling when set (non-zero), else values.pilot.traceSampling
 * (PILOT_TRACE_SAMPLING), else 1%; the collector from the Telemetry resource's provider or
 * meshConfig.defaultProviders.tracing (a `zipkin` extension provider: `service:port`), else the
 * legacy defaultConfig.tracing.zipkin.address. `enableTracing: false` turns tracing off unless a
 * Telemetry resource configures it. Only mesh-wide Telemetry (root namespace, no selector) is read
 * here; telemetryProviders gives the compiler what it needs for namespace and workload Telemetry.
 */
import type { AnyResource, ResourceOf } from '../resources/index.js';
import type { MeshOptions, TelemetryProviders, TraceCollector } from './types.js';

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

type ExtensionProvider = NonNullable<MeshConfig['extensionProviders']>[number];

/**
 * The extension providers Telemetry tracing and metrics name, as proxies use them. A zipkin provider
 * is `service:port` (9411 by default) plus its path; an opentelemetry provider with `http` is an
 * OTLP/HTTP exporter to `http://service:port` + path (`/v1/traces` by default), as Istio joins them
 * (tracing.go otelConfig); over gRPC (no `http`) it sends nothing here. Istio's DefaultMeshConfig
 * defines `prometheus` and makes it the default metrics provider.
 */
export function telemetryProviders(meshConfigs: readonly MeshConfig[], traceSampling: number | null | undefined): TelemetryProviders {
  const tracing: Record<string, TraceCollector | null> = {};
  const prometheus = new Set(['prometheus']);
  let defaultTracing: string | undefined;
  let defaultMetrics = ['prometheus'];
  let sampling: number | undefined;
  for (const mc of meshConfigs) {
    for (const p of mc.extensionProviders ?? []) {
      if (p.prometheus) prometheus.add(p.name);
      else prometheus.delete(p.name);
      tracing[p.name] = traceCollector(p);
    }
    if (mc.defaultProviders?.tracing?.[0] !== undefined) defaultTracing = mc.defaultProviders.tracing[0];
    if (mc.defaultProviders?.metrics) defaultMetrics = [...mc.defaultProviders.metrics];
    if (mc.defaultConfig?.tracing?.sampling) sampling = mc.defaultConfig.tracing.sampling;
  }
  return {
    tracing,
    ...(defaultTracing !== undefined ? { defaultTracing } : {}),
    samplingPercent: sampling ?? traceSampling ?? 1,
    prometheus: [...prometheus].sort(),
    defaultMetrics,
  };
}

function traceCollector(p: ExtensionProvider): TraceCollector | null {
  if (p.zipkin?.service) {
    const address = `${p.zipkin.service}:${p.zipkin.port ?? 9411}`;
    return { zipkinAddress: p.zipkin.path ? `http://${address}${p.zipkin.path.startsWith('/') ? '' : '/'}${p.zipkin.path}` : address };
  }
  const otel = p.opentelemetry;
  if (otel?.service && otel.http) {
    const path = otel.http.path ? (otel.http.path.startsWith('/') ? otel.http.path : `/${otel.http.path}`) : '/v1/traces';
    const headers = (otel.http.headers ?? []).flatMap((h) => (h.name ? [{ name: h.name, ...(h.value !== undefined ? { value: h.value } : {}), ...(h.envName !== undefined ? { envName: h.envName } : {}) }] : []));
    return {
      otlp: {
        url: `http://${otel.service}:${otel.port ?? 4318}${path}`,
        ...(otel.http.timeout !== undefined ? { timeoutMs: otel.http.timeout } : {}),
        ...(headers.length > 0 ? { headers } : {}),
      },
    };
  }
  return null;
}
