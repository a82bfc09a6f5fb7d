/**
 * RING_HASH (Istio's consistentHash default), ported from Envoy's RingHashLoadBalancer:
 * every host gets `scale * normalized weight` points named `<ip:port>_<i>` hashed with XXH64,
 * where the scale gives the lightest host a whole number of points on a ring of at least
 * minimumRingSize (default 1024) and at most 8M entries. A request goes to the first point at
 * or after its hash (ketama search); a retry that must avoid earlier hosts walks `attempt`
 * points further, as Envoy does.
 */
import { randomUint64 } from '../clock.js';
import { normalizeWeights, type NormalizedWeights } from './normalize.js';
import type { BalancedHost, LoadBalancer } from './types.js';
import { xxHash64 } from './xxhash64.js';

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export interface Ring<H> {
  hashes: BigUint64Array;
  hosts: H[];
}

/** `weights` defaults to the hosts' own; the priority set passes locality-weighted ones. */
export function buildRing<H extends BalancedHost>(hosts: readonly H[], minimumRingSize: number, maximumRingSize = DEFAULT_MAX_RING_SIZE, weights: NormalizedWeights<H> = normalizeWeights(hosts)): Ring<H> {
  if (weights.hosts.length === 0) return { hashes: new BigUint64Array(0), hosts: [] };
  const minSize = Number.isFinite(minimumRingSize) && minimumRingSize >= 1 ? Math.floor(minimumRingSize) : DEFAULT_MIN_RING_SIZE;
  const maxSize = Math.max(minSize, maximumRingSize);
  const scale = Math.min(Math.ceil(weights.min * minSize) / weights.min, maxSize);
  const points: { hash: bigint; host: H }[] = [];
  let current = 0;
  let target = 0;
  for (const { host, weight } of weights.hosts) {
    target += scale * weight;
    for (let i = 0; current < target; i++, current++) {
      points.push({ hash: xxHash64(`${host.key}_${i}`), host });
    }
  }
  points.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  return { hashes: BigUint64Array.from(points, (p) => p.hash), hosts: points.map((p) => p.host) };
}

/** Envoy's RingHashLoadBalancer::Ring::chooseHost, signed midpoint arithmetic included. */
export function chooseFromRing<H>(ring: Ring<H>, h: bigint, attempt: number): H | undefined {
  const size = ring.hashes.length;
  if (size === 0) return undefined;
  let lowp = 0;
  let highp = size;
  let midp = 0;
  for (;;) {
    midp = Math.trunc((lowp + highp) / 2);
    if (midp === size) {
      midp = 0;
      break;
    }
    const midval = ring.hashes[midp] as bigint;
    const midval1 = midp === 0 ? 0n : (ring.hashes[midp - 1] as bigint);
    if (h <= midval && h > midval1) break;
    if (midval < h) lowp = midp + 1;
    else highp = midp - 1;
    if (lowp > highp) {
      midp = 0;
      break;
    }
  }
  if (attempt > 0) midp = (midp + attempt) % size;
  return ring.hosts[midp];
}

export function ringHash<H extends BalancedHost>(hosts: readonly H[], random: () => number, minimumRingSize = DEFAULT_MIN_RING_SIZE, weights?: NormalizedWeights<H>): LoadBalancer<H> {
  const ring = buildRing(hosts, minimumRingSize, DEFAULT_MAX_RING_SIZE, weights);
  return { pick: (ctx) => chooseFromRing(ring, ctx.hash ?? randomUint64(random), ctx.attempt) };
}
