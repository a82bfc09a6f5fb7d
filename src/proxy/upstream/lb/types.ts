/**
 * One interface for every load balancing policy (Hono's router pattern): a balancer is built
 * from the hosts currently eligible for traffic and picks one per request. The cluster rebuilds
 * it whenever membership, weights or health change, as Envoy refreshes its balancers on each
 * host-set update, so implementations hold no health logic of their own.
 */

/** What a balancer may read about a host. */
export interface BalancedHost {
  /** `ip:port` (`[v6]:port`), Envoy's host address string; the consistent-hash key. */
  readonly key: string;
  /** Endpoint load-balancing weight, at least 1. */
  readonly weight: number;
  /** Requests in flight to this host now (Envoy's rq_active), for LEAST_REQUEST. */
  readonly activeRequests: number;
}

export interface PickContext {
  /** XXH64 of the request's hash key, for RING_HASH and MAGLEV; absent picks at random. */
  hash?: bigint;
  /** 0 for the first selection; >0 when a retry host predicate rejected earlier picks. */
  attempt: number;
  /**
   * Priority levels a retry should skip (retryRemoteLocalities, Envoy's previous_priorities):
   * their load goes to the remaining levels; with nothing remaining, the levels load as usual.
   */
  excludePriorities?: ReadonlySet<number>;
}

export interface LoadBalancer<H extends BalancedHost> {
  pick(ctx: PickContext): H | undefined;
}

export type LoadBalancerFactory = <H extends BalancedHost>(hosts: readonly H[], random: () => number) => LoadBalancer<H>;

export function allWeightsEqual(hosts: readonly BalancedHost[]): boolean {
  const first = hosts[0]?.weight;
  return hosts.every((h) => h.weight === first);
}
