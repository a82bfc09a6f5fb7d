/**
 * The policy table: proxy-config's LoadBalancer setting -> a balancer over the given hosts.
 * PASSTHROUGH has no balancer; the cluster sends to the original destination instead.
 */
import type { LoadBalancer as LoadBalancerConfig } from '../../../proxy-config/index.js';
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import { prioritySet, type Placement, type PrioritySet } from './priority.js';
import { randomBalancer } from './random.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';
import type { BalancedHost, LoadBalancer } from './types.js';

export type { BalancedHost, LoadBalancer, PickContext } from './types.js';
export type { Placement, PrioritySet } from './priority.js';

export function createLoadBalancer<H extends BalancedHost>(config: LoadBalancerConfig, hosts: readonly H[], random: () => number): LoadBalancer<H> {
  switch (config.policy) {
    case 'ROUND_ROBIN':
      return roundRobin(hosts, random);
    case 'RANDOM':
      return randomBalancer(hosts, random);
    case 'RING_HASH':
      return ringHash(hosts, random, config.minimumRingSize);
    case 'MAGLEV':
      return maglev(hosts, random, config.tableSize);
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

/** A balancer over priority levels and localities (locality load balancing), each level with `config`'s policy. */
export function createPrioritySet<H extends BalancedHost>(
  config: LoadBalancerConfig,
  hosts: readonly H[],
  isAvailable: (h: H) => boolean,
  place: (h: H) => Placement,
  panicThreshold: number,
  random: () => number,
): PrioritySet<H> {
  return prioritySet(config, hosts, isAvailable, place, panicThreshold, random, createLoadBalancer);
}
