/**
 * RANDOM. Envoy's RandomLoadBalancer picks uniformly and ignores endpoint weights; Weft honours
 * weights (probability weight/sum), which is the same thing whenever weights are equal, the
 * usual case for Kubernetes endpoints.
 */
import { type BalancedHost, type LoadBalancer, allWeightsEqual } from './types.js';

export function randomBalancer<H extends BalancedHost>(hosts: readonly H[], random: () => number): LoadBalancer<H> {
  if (hosts.length === 0) return { pick: () => undefined };
  if (allWeightsEqual(hosts)) return { pick: () => hosts[Math.floor(random() * hosts.length)] };
  const cumulative: number[] = [];
  let total = 0;
  for (const h of hosts) cumulative.push((total += h.weight));
  return {
    pick: () => {
      const target = random() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] ?? 0) > target) hi = mid;
        else lo = mid + 1;
      }
      return hosts[lo];
    },
  };
}
