/**
 * Priorities and localities as Envoy balances them (load_balancer_impl.cc), for clusters whose
 * endpoints the control plane placed relative to this proxy (locality load balancing):
 * - each priority level's health is min(100, 1.4 x its available share of hosts), 1.4 being
 *   Envoy's default overprovisioning factor; the levels take load in order, P0 as much as its
 *   health, the next what is left up to its own, and so on (scaled up when the total is short of
 *   100), so a level spills to the next only once it is below ~71% available;
 * - below 100 in total, a level under the panic threshold (Istio's minHealthPercent) uses all its
 *   hosts; if every level is in panic, load follows host counts;
 * - with locality weights, a level picks a locality first (EDF over weight x min(1, 1.4 x its
 *   available share)), then a host there with the cluster's policy. Consistent hashing picks the
 *   level by the request's hash, and its ring or table weighs each host by its share of its
 *   locality times the locality's share of the level (Envoy's ThreadAwareLoadBalancerBase, which
 *   does not discount partly available localities);
 * - a retry with retryRemoteLocalities names levels to skip; their load is shared out among the
 *   others by health as above (Envoy's PreviousPrioritiesRetryPriority). Envoy's hashing
 *   balancers pick the level from the cluster's own loads and never read a retry's, so neither
 *   does this one.
 */
import type { LoadBalancer as LoadBalancerConfig } from '../../../proxy-config/index.js';
import { EdfScheduler } from './edf.js';
import { normalizeLocalityWeights, type NormalizedWeights } from './normalize.js';
import { createLoadBalancer, isConsistentHash } from './policy.js';
import type { BalancedHost, LoadBalancer, PickContext } from './types.js';

/** Where the control plane put an endpoint: its priority level and locality (with its weight, if weighted). */
export interface Placement {
  priority: number;
  locality: string;
  localityWeight?: number;
}

export interface PrioritySet<H extends BalancedHost> {
  lb: LoadBalancer<H>;
  /** Some level balances over all its hosts, healthy or not. */
  panic: boolean;
  /** Percent of requests each level (in priority order) takes. */
  loads: number[];
}

const OVERPROVISIONING = 140;

interface Level<H> {
  hosts: H[];
  available: H[];
  health: number;
  panic: boolean;
}

export function prioritySet<H extends BalancedHost>(
  config: LoadBalancerConfig,
  hosts: readonly H[],
  isAvailable: (h: H) => boolean,
  place: (h: H) => Placement,
  panicThreshold: number,
  random: () => number,
): PrioritySet<H> {
  const byPriority = new Map<number, H[]>();
  for (const h of hosts) {
    const p = place(h).priority;
    const list = byPriority.get(p);
    if (list) list.push(h);
    else byPriority.set(p, [h]);
  }
  const priorities = [...byPriority.keys()].sort((a, b) => a - b);
  const levels: Level<H>[] = priorities.map((p) => {
    const all = byPriority.get(p) ?? [];
    const available = all.filter(isAvailable);
    return { hosts: all, available, health: Math.min(100, Math.floor((OVERPROVISIONING * available.length) / all.length)), panic: false };
  });
  const loads = priorityLoads(levels, panicThreshold);
  const hashing = isConsistentHash(config);
  const balancers = levels.map((level) => {
    const eligible = level.panic ? level.hosts : level.available;
    if (hashing) return createLoadBalancer(config, eligible, random, localityShares(level, eligible, place));
    return level.panic ? createLoadBalancer(config, eligible, random) : localityBalancer(config, level, place, random);
  });
  const pick = (ctx: PickContext): H | undefined => {
    // Envoy: hash % 100 + 1 against the cumulative loads; without a hash, a random draw.
    const draw = ctx.hash !== undefined ? Number(ctx.hash % 100n) + 1 : Math.floor(random() * 100) + 1;
    const excluded = ctx.excludePriorities;
    const use = excluded && excluded.size > 0 && !hashing ? (loadsExcluding(levels, priorities, excluded) ?? loads) : loads;
    let sum = 0;
    for (let i = 0; i < use.length; i++) {
      sum += use[i] ?? 0;
      if (draw <= sum) return balancers[i]?.pick(ctx);
    }
    return balancers[0]?.pick(ctx);
  };
  return { lb: { pick }, panic: levels.some((l) => l.panic), loads };
}

/** Load by health, scaled up when the total is short of 100; undefined when nothing has health. */
function distribute(health: readonly number[]): number[] | undefined {
  const total = Math.min(100, health.reduce((n, h) => n + h, 0));
  if (total <= 0) return undefined;
  const loads = health.map(() => 0);
  let remaining = 100;
  for (let i = 0; i < health.length; i++) {
    const load = Math.min(remaining, Math.floor(((health[i] ?? 0) * 100) / total));
    loads[i] = load;
    remaining -= load;
  }
  // Rounding leftovers go to the first level with any health.
  const first = health.findIndex((h) => h > 0);
  loads[first] = (loads[first] ?? 0) + remaining;
  return loads;
}

/** PreviousPrioritiesRetryPriority::adjustForAttemptedPriorities: skipped levels count as unavailable. */
function loadsExcluding<H>(levels: readonly Level<H>[], priorities: readonly number[], excluded: ReadonlySet<number>): number[] | undefined {
  return distribute(levels.map((l, i) => (excluded.has(priorities[i] ?? 0) ? 0 : l.health)));
}

/** Envoy's recalculatePerPriorityState and recalculatePerPriorityPanic, in whole percents. */
function priorityLoads<H>(levels: Level<H>[], panicThreshold: number): number[] {
  if (levels.length === 0) return [];
  const total = Math.min(100, levels.reduce((n, l) => n + l.health, 0));
  const loads = distribute(levels.map((l) => l.health)) ?? levels.map((_, i) => (i === 0 ? 100 : 0));
  if (panicThreshold <= 0 || total === 100) return loads;
  for (const l of levels) l.panic = (100 * l.available.length) / l.hosts.length < panicThreshold;
  if (levels.every((l) => l.panic)) {
    // Total panic: load by host counts, the remainder to the first level.
    const count = levels.reduce((n, l) => n + l.hosts.length, 0);
    let remaining = 100;
    levels.forEach((l, i) => {
      loads[i] = Math.floor((100 * l.hosts.length) / count);
      remaining -= loads[i] ?? 0;
    });
    loads[0] = (loads[0] ?? 0) + remaining;
  }
  return loads;
}

/** A hashing level's host shares when its endpoints carry locality weights; undefined leaves the host weights alone. */
function localityShares<H extends BalancedHost>(level: Level<H>, eligible: readonly H[], place: (h: H) => Placement): NormalizedWeights<H> | undefined {
  const localities = new Map<string, { weight: number; hosts: H[] }>();
  let weighted = false;
  for (const h of level.hosts) {
    const { locality, localityWeight } = place(h);
    if (localityWeight !== undefined) weighted = true;
    if (!localities.has(locality)) localities.set(locality, { weight: localityWeight ?? 0, hosts: [] });
  }
  if (!weighted) return undefined;
  for (const h of eligible) localities.get(place(h).locality)?.hosts.push(h);
  return normalizeLocalityWeights([...localities.values()], eligible);
}

/**
 * One level's balancer. Without locality weights: the cluster's policy over its available hosts.
 * With them: EDF over localities by effective weight, then the policy within the locality; when
 * no locality has weight left, Envoy falls back to all the level's available hosts.
 */
function localityBalancer<H extends BalancedHost>(config: LoadBalancerConfig, level: Level<H>, place: (h: H) => Placement, random: () => number): LoadBalancer<H> {
  const whole = createLoadBalancer(config, level.available, random);
  const localities = new Map<string, { weight: number; hosts: H[]; available: H[] }>();
  let weighted = false;
  const available = new Set(level.available);
  for (const h of level.hosts) {
    const { locality, localityWeight } = place(h);
    if (localityWeight !== undefined) weighted = true;
    let entry = localities.get(locality);
    if (!entry) localities.set(locality, (entry = { weight: localityWeight ?? 0, hosts: [], available: [] }));
    entry.hosts.push(h);
    if (available.has(h)) entry.available.push(h);
  }
  if (!weighted) return whole;
  const choices = [...localities.values()]
    .map((l) => ({ effective: l.weight * Math.min(1, (OVERPROVISIONING / 100) * (l.available.length / l.hosts.length)), lb: createLoadBalancer(config, l.available, random) }))
    .filter((c) => c.effective > 0);
  if (choices.length === 0) return whole;
  if (choices.length === 1) return choices[0]?.lb ?? whole;
  const edf = new EdfScheduler(choices, (c) => c.effective);
  return { pick: (ctx) => edf.pickAndAdd()?.lb.pick(ctx) };
}
