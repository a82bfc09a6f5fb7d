/**
 * Cluster-wide resource limits, Envoy's ResourceManager for the default priority: connections,
 * pending requests (waiting for a connection), active requests and outstanding retries, each
 * counted across every host of the cluster. Exceeding one is an overflow: the request fails
 * with UO (or the retry is skipped), and the overflow is counted for the admin snapshot.
 */
import type { CircuitBreakers as CircuitBreakersConfig } from '../../proxy-config/index.js';

export type Resource = 'connections' | 'pending' | 'requests' | 'retries';

const LIMIT_FIELD: Record<Resource, keyof Omit<CircuitBreakersConfig, 'maxRequestsPerConnection'>> = {
  connections: 'maxConnections',
  pending: 'maxPendingRequests',
  requests: 'maxRequests',
  retries: 'maxRetries',
};

export class CircuitBreakers {
  #config: CircuitBreakersConfig;
  readonly open: Record<Resource, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };
  readonly overflow: Record<Resource, number> = { connections: 0, pending: 0, requests: 0, retries: 0 };

  constructor(config: CircuitBreakersConfig) {
    this.#config = config;
  }

  /** New limits apply to new work; what is already open stays open (Envoy does the same). */
  update(config: CircuitBreakersConfig): void {
    this.#config = config;
  }

  limit(resource: Resource): number {
    const value = this.#config[LIMIT_FIELD[resource]];
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : Infinity;
  }

  canCreate(resource: Resource): boolean {
    return this.open[resource] < this.limit(resource);
  }

  /** Takes one unit if the limit allows, otherwise counts an overflow. */
  tryAcquire(resource: Resource): boolean {
    if (!this.canCreate(resource)) {
      this.overflow[resource]++;
      return false;
    }
    this.open[resource]++;
    return true;
  }

  acquire(resource: Resource): void {
    this.open[resource]++;
  }

  release(resource: Resource): void {
    if (this.open[resource] > 0) this.open[resource]--;
  }

  /** 0 means unlimited, as in Istio's maxRequestsPerConnection. */
  get maxRequestsPerConnection(): number {
    const v = this.#config.maxRequestsPerConnection;
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
  }
}
