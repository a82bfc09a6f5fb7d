/**
 * One endpoint of a cluster as the proxy tracks it: the endpoint as last assigned, requests in
 * flight (for LEAST_REQUEST), outlier state, and its connection pools. A Host outlives config
 * updates that keep its `ip:port`, so pools, ejections and in-flight requests survive them.
 */
import type { Endpoint } from '../../proxy-config/index.js';
import type { CircuitBreakers } from './circuit-breakers.js';
import type { BalancedHost } from './lb/index.js';
import { HostOutlierState } from './outlier.js';
import { Http1Pool } from './pool-h1.js';
import { Http2Pool } from './pool-h2.js';
import type { ConnectionPool, PoolConnection, PoolSettings } from './pool.js';
import { hostKey } from './socket.js';

export type HttpProtocol = 'http1' | 'http2';

export class Host implements BalancedHost {
  readonly key: string;
  endpoint: Endpoint;
  activeRequests = 0;
  /** Attempts sent to this host, for the admin snapshot. */
  requestsTotal = 0;
  readonly outlier = new HostOutlierState();
  draining = false;
  /** Open TCP-proxied connections (connect()), counted with pooled ones. */
  tcpConnections = 0;
  #pools = new Map<HttpProtocol, ConnectionPool<PoolConnection>>();
  #retired = new Map<ConnectionPool<PoolConnection>, Promise<void>>();

  constructor(
    endpoint: Endpoint,
    private readonly settings: () => PoolSettings,
    private readonly breakers: CircuitBreakers,
  ) {
    this.endpoint = endpoint;
    this.key = hostKey(endpoint.address, endpoint.port);
  }

  get weight(): number {
    const w = this.endpoint.weight;
    return Number.isFinite(w) && w >= 1 ? w : 1;
  }

  get healthy(): boolean {
    return this.endpoint.healthy !== false;
  }

  pool(protocol: HttpProtocol): ConnectionPool<PoolConnection> {
    let pool = this.#pools.get(protocol);
    if (!pool) {
      const target = { address: this.endpoint.address, port: this.endpoint.port, tlsMode: this.endpoint.tlsMode, ...(this.endpoint.workload ? { workload: this.endpoint.workload } : {}) };
      pool = protocol === 'http2' ? new Http2Pool(target, this.settings, this.breakers) : new Http1Pool(target, this.settings, this.breakers);
      this.#pools.set(protocol, pool);
    }
    return pool;
  }

  get connections(): number {
    let n = this.tcpConnections;
    for (const p of this.#pools.values()) n += p.connections;
    return n;
  }

  get pending(): number {
    let n = 0;
    for (const p of this.#pools.values()) n += p.pending;
    return n;
  }

  /** Connection settings changed: new requests get fresh pools, old ones finish and close. */
  retirePools(): void {
    for (const pool of this.#pools.values()) this.#retire(pool);
    this.#pools.clear();
  }

  /** The host left the cluster: in-flight requests finish, then its connections close. */
  async drain(): Promise<void> {
    this.draining = true;
    this.retirePools();
    await Promise.all(this.#retired.values());
  }

  close(): void {
    for (const pool of [...this.#pools.values(), ...this.#retired.keys()]) pool.close();
    this.#pools.clear();
  }

  #retire(pool: ConnectionPool<PoolConnection>): void {
    this.#retired.set(
      pool,
      pool.drain().finally(() => this.#retired.delete(pool)),
    );
  }
}
