/**
 * The clusters (and their endpoints) of one proxy's config, collected while compiling, so that
 * routes can ask whether the cluster they name exists (if not, the route answers 503 NC, as Envoy
 * does for a cluster that was never generated) and which hash policy its DestinationRule wants.
 */
import type { Cluster, ClusterLoadAssignment, HashPolicy } from '../../proxy-config/index.js';

export class ClusterSet {
  readonly #clusters = new Map<string, Cluster>();
  readonly #endpoints = new Map<string, ClusterLoadAssignment>();
  readonly #hash = new Map<string, HashPolicy>();

  add(cluster: Cluster, assignment?: ClusterLoadAssignment, hash?: HashPolicy): void {
    // The first definition wins, as Istio keeps the first cluster of a duplicated name.
    if (this.#clusters.has(cluster.name)) return;
    this.#clusters.set(cluster.name, cluster);
    if (assignment) this.#endpoints.set(cluster.name, assignment);
    if (hash) this.#hash.set(cluster.name, hash);
  }

  has(name: string): boolean {
    return this.#clusters.has(name);
  }

  hashPolicy(name: string): HashPolicy | undefined {
    return this.#hash.get(name);
  }

  clusters(): Cluster[] {
    return [...this.#clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  endpoints(): ClusterLoadAssignment[] {
    return [...this.#endpoints.values()].sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  }
}
