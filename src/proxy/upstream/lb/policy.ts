/**
 * The policy table: proxy-config's LoadBalancer setting -> a balancer over the given hosts.
 * PASSTHROUGH has no balancer; the cluster sends to the original destination instead. Its own
 * file so the priority set can build each level's balancer without importing the package index.
 */
import type { LoadBalancer as LoadBalancerConfig } from '../../../proxy-config/index.js';
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import type { NormalizedWeights } from './normalize.js';
import { randomBalancer } from './random.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import type { BalancedHost, LoadBalancer } from './types.js';

/** `weights` (locality-weighted shares) only matter to the hashing policies, which take them as Envoy's ThreadAwareLoadBalancerBase does. */
export function createLoadBalancer<H extends BalancedHost>(config: LoadBalancerConfig, hosts: readonly H[], random: () => number, weights?: NormalizedWeights<H>): LoadBalancer<H> {
  switch (config.policy) {
    case 'ROUND_ROBIN':
      return roundRobin(hosts, random);
    case 'RANDOM':
      return randomBalancer(hosts, random);
    case 'RING_HASH':
      return ringHash(hosts, random, config.minimumRingSize, weights);
    case 'MAGLEV':
      return maglev(hosts, random, config.tableSize, weights);
    case 'LEAST_REQUEST':
    case 'PASSTHROUGH':
    default:
      return leastRequest(hosts, random);
  }
}

/** Hashing balancers pick by request key; a retry must not rebuild their choice from scratch. */
export function isConsistentHash(config: LoadBalancerConfig): boolean {
  return config.policy === 'RING_HASH' || config.policy === 'MAGLEV';
}
