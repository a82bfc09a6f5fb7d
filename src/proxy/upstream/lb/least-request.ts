/**
 * LEAST_REQUEST (Istio's default) as Envoy's LeastRequestLoadBalancer with choice_count 2:
 * - equal weights: power of two choices; sample two hosts at random and take the one with fewer
 *   active requests (Envoy's N_CHOICES), or scan all hosts when there are no more than two,
 *   breaking ties by reservoir sampling (Envoy's full scan);
 * - unequal weights: EDF with weight / (active + 1), active_request_bias 1.0.
 */
import { randomUint32 } from '../clock.js';
import { EdfScheduler } from './edf.js';
import { allWeightsEqual, type BalancedHost, type LoadBalancer } from './types.js';

const CHOICE_COUNT = 2;

export function leastRequest<H extends BalancedHost>(hosts: readonly H[], random: () => number): LoadBalancer<H> {
  if (hosts.length === 0) return { pick: () => undefined };
  if (!allWeightsEqual(hosts)) {
    const edf = new EdfScheduler(hosts, (h) => h.weight / (h.activeRequests + 1));
    return { pick: () => edf.pickAndAdd() };
  }
  if (hosts.length <= CHOICE_COUNT) return { pick: () => fullScan(hosts, random) };
  return {
    pick: () => {
      let candidate: H | undefined;
      for (let i = 0; i < CHOICE_COUNT; i++) {
        const sampled = hosts[randomUint32(random) % hosts.length] as H;
        if (!candidate || sampled.activeRequests < candidate.activeRequests) candidate = sampled;
      }
      return candidate;
    },
  };
}

function fullScan<H extends BalancedHost>(hosts: readonly H[], random: () => number): H | undefined {
  let candidate: H | undefined;
  let tied = 0;
  for (const host of hosts) {
    if (!candidate || host.activeRequests < candidate.activeRequests) {
      candidate = host;
      tied = 1;
    } else if (host.activeRequests === candidate.activeRequests) {
      tied++;
      if (randomUint32(random) % tied === 0) candidate = host;
    }
  }
  return candidate;
}
