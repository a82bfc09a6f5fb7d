/**
 * Locality load balancing for one cluster's endpoints, relative to the proxy they are compiled
 * for (Istio's ApplyLocalityLoadBalancer in pilot/pkg/networking/core/loadbalancer). Endpoints are
 * grouped by locality (Envoy's LocalityLbEndpoints, weighted by the sum of their endpoint weights),
 * then either
 * - `distribute`: the first rule whose `from` matches the proxy reweights the localities its `to`
 *   names (a pattern's weight split over the localities it matches) and drops all the others; or
 * - failover (only with outlier detection, or Envoy would never see a host fail): priorities by
 *   `failoverPriority` labels, then by region/zone/subzone (0 same subzone, 1 same zone, 2 same
 *   region, 3 elsewhere, 4 a region `failover` does not name), renumbered densely from 0.
 * Either way Istio turns on Envoy's locality-weighted balancing; the proxy needs the weights only
 * where a priority holds several localities, so only then are they written.
 */
import type { Endpoint } from '../../proxy-config/index.js';
import type { MeshLocalityLbSetting } from '../../registry/index.js';

export interface LocalityContext {
  /** The proxy's `region/zone/subzone` ('' when unknown). */
  proxyLocality: string;
  proxyLabels: Readonly<Record<string, string>>;
  setting: MeshLocalityLbSetting;
  /** The cluster has outlier detection: failover may apply. */
  enableFailover: boolean;
}

interface Group {
  locality: string;
  endpoints: Endpoint[];
  priority: number;
  weight: number;
}

const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';
const SUBZONE = 'topology.istio.io/subzone';

/** The endpoints with `priority` and `localityWeight` set as Envoy would see them; unchanged without a setting. */
export function applyLocalityLb(endpoints: readonly Endpoint[], ctx: LocalityContext): Endpoint[] {
  let groups = groupByLocality(endpoints);
  const { setting } = ctx;
  let weighted = false;
  if ((setting.distribute?.length ?? 0) > 0) {
    groups = distribute(groups, ctx.proxyLocality, setting.distribute ?? []);
    weighted = true;
  } else if (ctx.enableFailover) {
    if ((setting.failoverPriority?.length ?? 0) > 0) {
      groups = failoverPriorities(groups, augment(ctx.proxyLabels, ctx.proxyLocality), setting.failoverPriority ?? []);
      if ((setting.failover?.length ?? 0) > 0) localityFailover(groups, ctx.proxyLocality, setting.failover ?? []);
    } else {
      localityFailover(groups, ctx.proxyLocality, setting.failover ?? []);
    }
    weighted = true;
  }
  if (!weighted) return [...endpoints];
  const writeWeights = severalLocalitiesInAPriority(groups);
  const groupOf = new Map<Endpoint, Group>();
  for (const g of groups) for (const e of g.endpoints) groupOf.set(e, g);
  // The input order (by address) stays; endpoints `distribute` dropped are gone.
  const out: Endpoint[] = [];
  for (const e of endpoints) {
    const g = groupOf.get(e);
    if (g) out.push({ ...e, ...(g.priority > 0 ? { priority: g.priority } : {}), ...(writeWeights ? { localityWeight: g.weight } : {}) });
  }
  return out;
}

function groupByLocality(endpoints: readonly Endpoint[]): Group[] {
  const byLocality = new Map<string, Group>();
  for (const e of endpoints) {
    const locality = e.locality ?? '';
    let g = byLocality.get(locality);
    if (!g) byLocality.set(locality, (g = { locality, endpoints: [], priority: 0, weight: 0 }));
    g.endpoints.push(e);
    g.weight += e.weight;
  }
  return [...byLocality.values()];
}

function split(locality: string): [string, string, string] {
  const [region = '', zone = '', subzone = ''] = locality.split('/');
  return [region, zone, subzone];
}

/** Istio's LocalityMatch: a rule `region[/zone[/subzone]]`, each part `*` or absent matching anything below region. */
export function localityMatches(locality: string, rule: string): boolean {
  const [region, zone, subzone] = split(locality);
  const [rRegion, rZone, rSubzone] = split(rule);
  return (rRegion === '*' || region === rRegion)
    && (rZone === '*' || rZone === '' || zone === rZone)
    && (rSubzone === '*' || rSubzone === '' || subzone === rSubzone);
}

function distribute(groups: Group[], proxyLocality: string, rules: NonNullable<MeshLocalityLbSetting['distribute']>): Group[] {
  const rule = rules.find((r) => localityMatches(proxyLocality, r.from ?? ''));
  if (!rule) return groups;
  const unmatched = new Set(groups);
  for (const [pattern, weight] of Object.entries(rule.to ?? {})) {
    const matched = groups.filter((g) => unmatched.has(g) && localityMatches(g.locality, pattern));
    const total = matched.reduce((n, g) => n + g.weight, 0);
    for (const g of matched) {
      unmatched.delete(g);
      // A pattern matching several localities shares its weight in proportion to theirs, rounded up.
      const share = total > 0 ? (g.weight * weight) / total : 0;
      if (share > 0) g.weight = Math.ceil(share);
    }
  }
  return groups.filter((g) => !unmatched.has(g));
}

/** Istio's LbPriority: how far an endpoint's locality is from the proxy's. */
function distance(proxy: string, endpoint: string): number {
  const [pr, pz, ps] = split(proxy);
  const [er, ez, es] = split(endpoint);
  if (pr !== er) return 3;
  if (pz !== ez) return 2;
  return ps === es ? 0 : 1;
}

function localityFailover(groups: Group[], proxyLocality: string, failover: NonNullable<MeshLocalityLbSetting['failover']>): void {
  const [proxyRegion] = split(proxyLocality);
  for (const g of groups) {
    let p = distance(proxyLocality, g.locality);
    if (p === 3) {
      const rule = failover.find((f) => f.from === proxyRegion);
      if (rule && split(g.locality)[0] !== rule.to) p = 4;
    }
    // Five locality levels under each failoverPriority level already assigned.
    g.priority = g.priority * 5 + p;
  }
  renumber(groups);
}

/** Topology labels on both sides, as Istio's AugmentLabels adds them to proxies and endpoints. */
function augment(labels: Readonly<Record<string, string>>, locality: string): Record<string, string> {
  const [region, zone, subzone] = split(locality);
  return { ...labels, ...(region ? { [REGION]: region } : {}), ...(zone ? { [ZONE]: zone } : {}), ...(subzone ? { [SUBZONE]: subzone } : {}) };
}

/**
 * failoverPriority: an endpoint matching the proxy on the first k labels (`label` compares values;
 * `label=value` compares with that value) but not label k gets priority n - k; all matching, 0.
 * A locality whose endpoints land on several priorities is split, each part weighing its own.
 */
function failoverPriorities(groups: Group[], proxyLabels: Record<string, string>, priorities: readonly string[]): Group[] {
  if (Object.keys(proxyLabels).length === 0) return groups;
  const rules = priorities.map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? { label: p, value: proxyLabels[p] } : { label: p.slice(0, eq), value: p.slice(eq + 1) };
  });
  const out: Group[] = [];
  for (const g of groups) {
    const parts = new Map<number, Group>();
    for (const e of g.endpoints) {
      const labels = augment(e.labels, g.locality);
      const miss = rules.findIndex((r) => r.value !== labels[r.label]);
      const priority = miss < 0 ? 0 : rules.length - miss;
      let part = parts.get(priority);
      if (!part) parts.set(priority, (part = { locality: g.locality, endpoints: [], priority, weight: 0 }));
      part.endpoints.push(e);
      part.weight += e.weight;
    }
    out.push(...[...parts.values()].sort((a, b) => a.priority - b.priority));
  }
  renumber(out);
  return out;
}

/** Envoy wants priorities 0..N without gaps. */
function renumber(groups: Group[]): void {
  const used = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  const dense = new Map(used.map((p, i) => [p, i]));
  for (const g of groups) g.priority = dense.get(g.priority) ?? 0;
}

function severalLocalitiesInAPriority(groups: readonly Group[]): boolean {
  const seen = new Map<number, string>();
  for (const g of groups) {
    const first = seen.get(g.priority);
    if (first === undefined) seen.set(g.priority, g.locality);
    else if (first !== g.locality) return true;
  }
  return false;
}
