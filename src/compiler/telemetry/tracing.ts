/**
 * A proxy's tracing from Telemetry resources (Istio's Telemetries.Tracing, pilot/pkg/model/
 * telemetry.go, and configureTracingFromTelemetry in networking/core/tracing.go). The tracing rules
 * of the mesh-wide, namespace and workload Telemetry apply in that order, each overriding what it
 * sets (provider, disableSpanReporting, customTags as a whole, randomSamplingPercentage) on the
 * side its `match.mode` selects: the client side is the outbound and gateway listeners, the server
 * side the inbound one. The provider starts as meshConfig.defaultProviders.tracing; the sampling
 * falls back to defaultConfig.tracing.sampling / values.pilot.traceSampling.
 *
 * With no rule and no default provider the mesh-wide settings stand (meshConfig, legacy). A
 * provider that sends nothing here (unknown, another kind, OTLP over gRPC) leaves the mesh's
 * collector (the control plane's trace store by default) rather than turning tracing off as Istio
 * does, so a local mesh keeps its traces; disableSpanReporting keeps sampling and propagating the
 * trace context and sends no span.
 */
import type { MeshRuntimeConfig, ProxyNode, TracingCustomTag, TracingSettings } from '../../proxy-config/index.js';
import type { ResourceOf } from '../../resources/index.js';
import type { Snapshot } from '../snapshot.js';
import { applicableTelemetries } from './access-logs.js';

type TracingRule = NonNullable<ResourceOf<'Telemetry'>['spec']['tracing']>[number];

interface Spec {
  provider: string | undefined;
  disabled: boolean;
  sampling: number | undefined;
  customTags: TracingRule['customTags'];
}

/** The tracing fields of a proxy's MeshRuntimeConfig. */
export function tracingConfig(snapshot: Snapshot, node: Pick<ProxyNode, 'namespace' | 'labels'>): Pick<MeshRuntimeConfig, 'tracing' | 'inboundTracing'> {
  const mesh = snapshot.mesh;
  const rules = applicableTelemetries(snapshot, node).flatMap((t) => t.spec.tracing ?? []);
  const providers = mesh.telemetryProviders;
  if (rules.length === 0 && providers?.defaultTracing === undefined) return mesh.tracing ? { tracing: mesh.tracing } : {};

  const client: Spec = { provider: providers?.defaultTracing, disabled: false, sampling: undefined, customTags: undefined };
  const server: Spec = { ...client };
  for (const rule of rules) {
    const mode = rule.match?.mode ?? 'CLIENT_AND_SERVER';
    const specs = mode === 'CLIENT' ? [client] : mode === 'SERVER' ? [server] : [client, server];
    for (const spec of specs) {
      const name = rule.providers?.[0]?.name;
      if (name !== undefined) spec.provider = name;
      if (typeof rule.disableSpanReporting === 'boolean') spec.disabled = rule.disableSpanReporting;
      if (rule.customTags !== undefined) spec.customTags = rule.customTags;
      if (typeof rule.randomSamplingPercentage === 'number') spec.sampling = rule.randomSamplingPercentage;
    }
  }
  const tracing = settings(snapshot, client);
  const inbound = settings(snapshot, server);
  return JSON.stringify(tracing) === JSON.stringify(inbound) ? { tracing } : { tracing, inboundTracing: inbound };
}

function settings(snapshot: Snapshot, spec: Spec): TracingSettings {
  const providers = snapshot.mesh.telemetryProviders;
  const samplingPercent = spec.sampling ?? providers?.samplingPercent ?? snapshot.mesh.tracing?.samplingPercent ?? 1;
  const out: TracingSettings = { samplingPercent };
  if (!spec.disabled) {
    const collector = spec.provider === undefined ? undefined : lookup(providers?.tracing ?? {}, spec.provider);
    if (collector && 'otlp' in collector) out.otlp = collector.otlp;
    else {
      const address = collector?.zipkinAddress ?? snapshot.mesh.tracing?.zipkinAddress;
      if (address !== undefined) out.zipkinAddress = address;
    }
  }
  const tags = customTags(spec.customTags);
  if (tags) out.customTags = tags;
  return out;
}

/** Istio's fetchProvider: names compare case-insensitively; the first definition wins. */
function lookup<T>(providers: Record<string, T>, name: string): T | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(providers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function customTags(tags: TracingRule['customTags']): Record<string, TracingCustomTag> | undefined {
  if (tags === undefined) return undefined;
  const out: Record<string, TracingCustomTag> = {};
  for (const name of Object.keys(tags).sort()) {
    const t = tags[name];
    if (t?.literal) out[name] = { literal: t.literal.value };
    else if (t?.environment) out[name] = { environment: t.environment.name, ...(t.environment.defaultValue !== undefined ? { defaultValue: t.environment.defaultValue } : {}) };
    else if (t?.header) out[name] = { header: t.header.name.toLowerCase(), ...(t.header.defaultValue !== undefined ? { defaultValue: t.header.defaultValue } : {}) };
    else if (t?.formatter) out[name] = { formatter: t.formatter.value };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
