/**
 * Pieces shared by the control plane's and the gateways' rendering: how many replicas a component
 * runs, its container resources and env, its rollout strategy. Precedence is Istio's: a
 * component's `k8s` settings over the chart value (`values.pilot.*`, `values.gateways.<gw>.*`)
 * over the profile's default.
 */
import type { KubernetesResources } from '../resources/install/istio-operator-k8s.js';
import { compact, isMap, mergeFrom, type PlainMap } from './objects.js';

export interface ChartValues {
  replicaCount?: number | null;
  autoscaleEnabled?: boolean | null;
  autoscaleMin?: number | null;
  resources?: PlainMap | null;
  env?: Record<string, unknown> | null;
  rollingMaxSurge?: number | string | null;
  rollingMaxUnavailable?: number | string | null;
  podAnnotations?: PlainMap | null;
}

/**
 * Istio leaves `replicas` to the HorizontalPodAutoscaler while autoscaling is on (minimum
 * autoscaleMin or k8s.hpaSpec.minReplicas). The local runtime has no autoscaler, so it runs the
 * larger of the count asked for and that minimum: `values.pilot.replicaCount: 2` gives two.
 */
export function replicaCount(k8s: KubernetesResources | undefined, chart: ChartValues): number {
  const k8sCount = k8s?.replicaCount && k8s.replicaCount > 0 ? k8s.replicaCount : undefined;
  const asked = k8sCount ?? chart.replicaCount ?? 1;
  if (!chart.autoscaleEnabled) return asked;
  return Math.max(asked, k8s?.hpaSpec?.minReplicas ?? chart.autoscaleMin ?? 1);
}

/** Requests and limits: the chart's, with `k8s.resources` merged over them. */
export function containerResources(k8s: KubernetesResources | undefined, chart: ChartValues): PlainMap | undefined {
  const fromChart = isMap(chart.resources) ? pickQuantities(chart.resources) : {};
  const merged = k8s?.resources ? mergeFrom(fromChart, pickQuantities(k8s.resources as PlainMap)) : fromChart;
  return Object.keys(merged).length > 0 ? merged : undefined;
}

function pickQuantities(r: PlainMap): PlainMap {
  const out: PlainMap = {};
  for (const field of ['requests', 'limits'] as const) {
    const list = r[field];
    if (!isMap(list)) continue;
    const kept = Object.fromEntries(Object.entries(list).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]));
    if (Object.keys(kept).length > 0) out[field] = kept;
  }
  return out;
}

/** Env: `first` (set by the install itself), the chart's env map, then `k8s.env`; a later entry of a name replaces an earlier one in place. */
export function containerEnv(first: PlainMap[], k8s: KubernetesResources | undefined, chart: ChartValues): PlainMap[] | undefined {
  const byName = new Map<string, PlainMap>();
  const add = (e: PlainMap) => byName.set(String(e.name), e);
  first.forEach(add);
  for (const [name, value] of Object.entries(chart.env ?? {})) if (value !== null && value !== undefined) add({ name, value: String(value) });
  for (const e of k8s?.env ?? []) add(compact({ name: e.name, value: e.value, valueFrom: e.valueFrom }));
  return byName.size > 0 ? [...byName.values()] : undefined;
}

/** k8s.strategy, else the chart's rolling bounds (Istio's: maxSurge 100%, maxUnavailable 25%). */
export function deploymentStrategy(k8s: KubernetesResources | undefined, chart: ChartValues): PlainMap {
  if (k8s?.strategy) return structuredClone(k8s.strategy) as PlainMap;
  return compact({ type: 'RollingUpdate', rollingUpdate: compact({ maxSurge: chart.rollingMaxSurge ?? undefined, maxUnavailable: chart.rollingMaxUnavailable ?? undefined }) });
}

export function podAnnotations(base: Record<string, string>, k8s: KubernetesResources | undefined, chart: ChartValues): Record<string, string> | undefined {
  const out: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(chart.podAnnotations ?? {})) if (v !== null && v !== undefined) out[k] = String(v);
  Object.assign(out, k8s?.podAnnotations ?? {});
  return Object.keys(out).length > 0 ? out : undefined;
}
