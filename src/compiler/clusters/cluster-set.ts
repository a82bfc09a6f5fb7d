/**
 * The clusters (and their endpoints) of one proxy's config, collected while compiling, so that
 * routes can ask whether the cluster they name exists (if not, the route answers 503 NC, as Envoy
 * does for a cluster that was never generated) and which hash policy its DestinationRule wants.
 * A set can extend a frozen base (a sidecar's outbound clusters, shared by every proxy with the
 * same outbound scope: compiler/shared-outbound.ts); it then behaves as if the base's clusters had been
 * added to it first, and when it adds none of its own its lists are the base's shared lists.
 */
import type { Cluster, ClusterLoadAssignment, HashPolicy } from '../../proxy-config/index.js';

/** What a set's outbound clusters read of the proxy beyond its outbound scope (shared-outbound.ts keys on them). */
export interface ProxyInputs {
  locality: boolean;
  labels: boolean;
}

export class ClusterSet {
  readonly #clusters = new Map<string, Cluster>();
  readonly #endpoints = new Map<string, ClusterLoadAssignment>();
  readonly #hash = new Map<string, HashPolicy>();
  readonly #base: ClusterSet | undefined;
  #sealed: { clusters: readonly Cluster[]; endpoints: readonly ClusterLoadAssignment[] } | undefined;
  readonly reads: ProxyInputs = { locality: false, labels: false };

  constructor(base?: ClusterSet) {
    if (base && !base.#sealed) throw new Error('a cluster set extends only a sealed set');
    this.#base = base;
  }

  add(cluster: Cluster, assignment?: ClusterLoadAssignment, hash?: HashPolicy): void {
    if (this.#sealed) throw new Error('cluster set is sealed');
    // The first definition wins, as Istio keeps the first cluster of a duplicated name.
    if (this.has(cluster.name)) return;
    this.#clusters.set(cluster.name, cluster);
    if (assignment) this.#endpoints.set(cluster.name, assignment);
    if (hash) this.#hash.set(cluster.name, hash);
  }

  has(name: string): boolean {
    return this.#clusters.has(name) || (this.#base?.has(name) ?? false);
  }

  hashPolicy(name: string): HashPolicy | undefined {
    return this.#base?.hashPolicy(name) ?? this.#hash.get(name);
  }

  /** Fixes the contents and freezes the lists, so sets extending this one can share them. */
  seal(): this {
    this.#sealed = { clusters: Object.freeze(this.clusters()), endpoints: Object.freeze(this.endpoints()) };
    return this;
  }

  clusters(): Cluster[] {
    if (this.#sealed) return this.#sealed.clusters as Cluster[];
    const own = [...this.#clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.#base ? mergeSorted(this.#base.clusters(), own, (c) => c.name) : own;
  }

  endpoints(): ClusterLoadAssignment[] {
    if (this.#sealed) return this.#sealed.endpoints as ClusterLoadAssignment[];
    const own = [...this.#endpoints.values()].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
    return this.#base ? mergeSorted(this.#base.endpoints(), own, (e) => e.cluster) : own;
  }
}

/**
 * Two lists sorted by name as one, `first` winning ties (as a stable sort of `first` then `second`
 * would order them); `first` itself, shared, when `second` is empty.
 */
export function mergeSorted<T>(first: readonly T[], second: readonly T[], name: (item: T) => string): T[] {
  if (second.length === 0) return first as T[];
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < first.length && j < second.length) {
    const a = first[i] as T;
    const b = second[j] as T;
    if (name(b) < name(a)) {
      out.push(b);
      j++;
    } else {
      out.push(a);
      i++;
    }
  }
  for (; i < first.length; i++) out.push(first[i] as T);
  for (; j < second.length; j++) out.push(second[j] as T);
  return out;
}
