/**
 * Envoy's ThreadAwareLoadBalancerBase::normalizeHostWeights and normalizeLocalityWeights for one
 * priority level: each host's share of the total weight (with locality weights, its share of its
 * locality times the locality's share of the level), plus the smallest and largest share, which
 * size the ring (RING_HASH) and pace the table fill (MAGLEV).
 */
import type { BalancedHost } from './types.js';

export interface NormalizedWeights<H> {
  hosts: { host: H; weight: number }[];
  min: number;
  max: number;
}

export function normalizeWeights<H extends BalancedHost>(hosts: readonly H[], share = 1, into?: NormalizedWeights<H>): NormalizedWeights<H> {
  const out = into ?? { hosts: [], min: 1, max: 0 };
  const total = hosts.reduce((sum, h) => sum + h.weight, 0);
  for (const host of hosts) {
    const weight = (host.weight * share) / total;
    out.min = Math.min(out.min, weight);
    out.max = Math.max(out.max, weight);
    out.hosts.push({ host, weight });
  }
  return out;
}

/**
 * Every locality's weight counts in the sum, even one with no eligible host left (its share is
 * then simply missing, as in Envoy, which does not adjust for partial availability here). With
 * no weight at all Envoy would route nowhere; a proxy must keep serving, so this falls back to
 * the host weights alone (the caller passes every eligible host in `all`).
 */
export function normalizeLocalityWeights<H extends BalancedHost>(localities: readonly { weight: number; hosts: readonly H[] }[], all: readonly H[]): NormalizedWeights<H> {
  const sum = localities.reduce((n, l) => n + l.weight, 0);
  const out: NormalizedWeights<H> = { hosts: [], min: 1, max: 0 };
  if (sum > 0) for (const l of localities) if (l.weight > 0 && l.hosts.length > 0) normalizeWeights(l.hosts, l.weight / sum, out);
  return out.hosts.length > 0 ? out : normalizeWeights(all);
}
