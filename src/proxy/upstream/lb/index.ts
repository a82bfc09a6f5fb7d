/**
 * The load balancers' entry points: the policy table, and the priority set that balances over
 * priority levels and localities (locality load balancing) with that table's policy per level.
 */
export { createLoadBalancer, isConsistentHash } from './policy.js';
export { prioritySet as createPrioritySet } from './priority.js';
export type { BalancedHost, LoadBalancer, PickContext } from './types.js';
export type { Placement, PrioritySet } from './priority.js';
