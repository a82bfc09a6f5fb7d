/**
 * Envoy's ThreadAwareLoadBalancerBase::normalizeHostWeights for one priority without locality
 * weighting: each host's share of the total weight, plus the smallest and largest share, which
 * size the ring (RING_HASH) and pace the table fill (MAGLEV).
 */
import type { BalancedHost } from './types.js';

export interface NormalizedWeights<H> {
  hosts: { host: H; weight: number }[];
  min: number;
  max: number;
}

export function normalizeWeights<H extends BalancedHost>(hosts: readonly H[]): NormalizedWeights<H> {
  const total = hosts.reduce((sum, h) => sum + h.weight, 0);
  let min = 1;
  let max = 0;
  const out = hosts.map((host) => {
    const weight = host.weight / total;
    min = Math.min(min, weight);
    max = Math.max(max, weight);
    return { host, weight };
  });
  return { hosts: out, min, max };
}
