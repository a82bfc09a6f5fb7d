/**
 * ROUND_ROBIN as Envoy's RoundRobinLoadBalancer: equal weights rotate through the hosts from a
 * random starting point; unequal weights go through the EDF scheduler, so a weight-3 host is
 * picked three times as often, interleaved rather than in bursts.
 */
import { randomUint32 } from '../clock.js';
import { EdfScheduler } from './edf.js';
import { allWeightsEqual, type BalancedHost, type LoadBalancer } from './types.js';

export function roundRobin<H extends BalancedHost>(hosts: readonly H[], random: () => number): LoadBalancer<H> {
  if (hosts.length === 0) return { pick: () => undefined };
  if (allWeightsEqual(hosts)) {
    let index = randomUint32(random) % hosts.length;
    return { pick: () => hosts[index++ % hosts.length] };
  }
  const edf = new EdfScheduler(hosts, (h) => h.weight);
  return { pick: () => edf.pickAndAdd() };
}
