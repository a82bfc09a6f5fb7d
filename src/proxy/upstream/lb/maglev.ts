/**
 * MAGLEV, ported from Envoy's OriginalMaglevTable: hosts sorted by `ip:port`, each with an
 * offset (XXH64 seed 0) and skip (XXH64 seed 1) permutation, take turns filling a prime-sized
 * table in proportion to their normalized weight. A request indexes the table with its hash; a
 * retry avoiding earlier hosts flips the hash's high bits by attempt, as Envoy does.
 */
import { randomUint64 } from '../clock.js';
import { normalizeWeights, type NormalizedWeights } from './normalize.js';
import type { BalancedHost, LoadBalancer } from './types.js';
import { xxHash64 } from './xxhash64.js';

export const DEFAULT_TABLE_SIZE = 65537;
const MASK = 0xffff_ffff_ffff_ffffn;

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Envoy rejects a non-prime table size; a proxy must survive any config, so it falls back. */
export function effectiveTableSize(requested: number): number {
  return isPrime(requested) && requested <= 5_000_011 ? requested : DEFAULT_TABLE_SIZE;
}

export interface MaglevTable<H> {
  /** Index into `hosts` for each table slot. */
  slots: Uint32Array;
  hosts: H[];
}

/** `weights` defaults to the hosts' own; the priority set passes locality-weighted ones. */
export function buildMaglevTable<H extends BalancedHost>(hosts: readonly H[], tableSize: number, weights: NormalizedWeights<H> = normalizeWeights(hosts)): MaglevTable<H> {
  if (weights.hosts.length === 0) return { slots: new Uint32Array(0), hosts: [] };
  const size = effectiveTableSize(tableSize);
  const entries = weights.hosts
    .map(({ host, weight }) => ({ host, weight }))
    .sort((a, b) => (a.host.key < b.host.key ? -1 : a.host.key > b.host.key ? 1 : 0))
    .map(({ host, weight }) => ({
      host,
      weight,
      offset: Number(xxHash64(host.key) % BigInt(size)),
      skip: Number(xxHash64(host.key, 1n) % BigInt(size - 1)) + 1,
      target: 0,
      next: 0,
    }));
  const filled = new Uint8Array(size);
  const slots = new Uint32Array(size);
  let index = 0;
  for (let iteration = 1; index < size; iteration++) {
    for (let i = 0; i < entries.length && index < size; i++) {
      const entry = entries[i] as (typeof entries)[number];
      if (iteration * entry.weight < entry.target) continue;
      entry.target += weights.max;
      let c = (entry.offset + entry.skip * entry.next) % size;
      while (filled[c]) {
        entry.next++;
        c = (entry.offset + entry.skip * entry.next) % size;
      }
      filled[c] = 1;
      slots[c] = i;
      entry.next++;
      index++;
    }
  }
  return { slots, hosts: entries.map((e) => e.host) };
}

export function chooseFromTable<H>(table: MaglevTable<H>, hash: bigint, attempt: number): H | undefined {
  if (table.slots.length === 0) return undefined;
  let h = hash;
  if (attempt > 0) h ^= (MASK - BigInt(attempt) + 1n) & MASK;
  return table.hosts[table.slots[Number(h % BigInt(table.slots.length))] ?? 0];
}

export function maglev<H extends BalancedHost>(hosts: readonly H[], random: () => number, tableSize = DEFAULT_TABLE_SIZE, weights?: NormalizedWeights<H>): LoadBalancer<H> {
  const table = buildMaglevTable(hosts, tableSize, weights);
  return { pick: (ctx) => chooseFromTable(table, ctx.hash ?? randomUint64(random), ctx.attempt) };
}
