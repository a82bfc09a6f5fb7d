/**
 * A proxy's metrics overrides from Telemetry resources (Istio's mergeMetrics, pilot/pkg/model/
 * telemetry.go). The metrics entries of the mesh-wide, namespace and workload Telemetry apply in
 * that order. Providers: an entry naming none inherits the one before it (meshConfig
 * defaultProviders.metrics, `prometheus` by default); only the providers named last are in scope,
 * and the proxy's Prometheus output is on only while a `prometheus` provider is. Each override
 * (later ones win, per metric and side) disables a metric or changes its tags; `ALL_METRICS`
 * disabled turns every metric off until a later override enables one again.
 */
import type { IstioMetricName, MetricOverride, MetricsSettings, ProxyNode } from '../../proxy-config/index.js';
import type { ResourceOf } from '../../resources/index.js';
import type { Snapshot } from '../snapshot.js';
import { applicableTelemetries } from './access-logs.js';

type MetricsRule = NonNullable<ResourceOf<'Telemetry'>['spec']['metrics']>[number];
type Side = 'client' | 'server';

export const ISTIO_METRICS: readonly IstioMetricName[] = [
  'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE',
  'TCP_CLOSED_CONNECTIONS', 'TCP_OPENED_CONNECTIONS', 'TCP_RECEIVED_BYTES', 'TCP_SENT_BYTES',
];

interface Merged {
  disabled?: boolean;
  tags: Map<string, { remove: boolean; value: string }>;
}

/** The `metrics` field of a proxy's MeshRuntimeConfig; absent when Telemetry changes nothing. */
export function metricsConfig(snapshot: Snapshot, node: Pick<ProxyNode, 'namespace' | 'labels'>): { metrics?: MetricsSettings } {
  const rules: MetricsRule[] = applicableTelemetries(snapshot, node).flatMap((t) => t.spec.metrics ?? []);
  if (rules.length === 0) return {};
  const providers = snapshot.mesh.telemetryProviders;
  const prometheus = new Set((providers?.prometheus ?? ['prometheus']).map((p) => p.toLowerCase()));
  const defaults = providers?.defaultMetrics ?? ['prometheus'];

  let inScope: readonly string[] = defaults;
  for (const rule of rules) if ((rule.providers?.length ?? 0) > 0) inScope = names(rule);
  const on = inScope.some((p) => prometheus.has(p.toLowerCase()));

  const merged: Record<Side, Map<IstioMetricName, Merged>> = { client: new Map(), server: new Map() };
  let allDisabled = !on;
  let parent: readonly string[] = defaults;
  for (const rule of rules) {
    const current = (rule.providers?.length ?? 0) > 0 ? names(rule) : parent;
    parent = current;
    // Only overrides that reach an in-scope prometheus provider change its output.
    if (!current.some((p) => prometheus.has(p.toLowerCase()) && inScope.includes(p))) continue;
    for (const o of rule.overrides ?? []) {
      const match = o.match;
      const all = match?.customMetric === undefined && (match?.metric ?? 'ALL_METRICS') === 'ALL_METRICS';
      if (all && o.disabled === true) {
        allDisabled = true;
        continue;
      }
      allDisabled = !on;
      if (match?.customMetric !== undefined) continue; // no custom metrics here
      const metrics = all ? ISTIO_METRICS : [match?.metric as IstioMetricName];
      const mode = match?.mode ?? 'CLIENT_AND_SERVER';
      const sides: Side[] = mode === 'CLIENT' ? ['client'] : mode === 'SERVER' ? ['server'] : ['client', 'server'];
      for (const side of sides) {
        for (const metric of metrics) {
          let m = merged[side].get(metric);
          if (!m) merged[side].set(metric, (m = { tags: new Map() }));
          if (typeof o.disabled === 'boolean') m.disabled = o.disabled;
          for (const [tag, to] of Object.entries(o.tagOverrides ?? {})) {
            m.tags.set(tag, to.operation === 'REMOVE' ? { remove: true, value: '' } : { remove: false, value: to.value ?? '' });
          }
        }
      }
    }
  }

  if (allDisabled) {
    const off = Object.fromEntries(ISTIO_METRICS.map((m) => [m, { disabled: true }]));
    return { metrics: { client: off, server: off } };
  }
  const out: MetricsSettings = {};
  for (const side of ['client', 'server'] as const) {
    const entries: [IstioMetricName, MetricOverride][] = [];
    for (const metric of ISTIO_METRICS) {
      const m = merged[side].get(metric);
      if (!m) continue;
      const tags = [...m.tags.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, t]) => (t.remove ? { name, remove: true } : { name, value: t.value }));
      if (m.disabled !== true && tags.length === 0) continue;
      entries.push([metric, { ...(m.disabled === true ? { disabled: true } : {}), ...(tags.length > 0 ? { tags } : {}) }]);
    }
    if (entries.length > 0) out[side] = Object.fromEntries(entries);
  }
  return out.client || out.server ? { metrics: out } : {};
}

function names(rule: MetricsRule): string[] {
  return (rule.providers ?? []).map((p) => p.name);
}
