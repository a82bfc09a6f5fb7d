/**
 * The upstream side of the proxy: every cluster of the current config with its endpoints, and
 * the two ways to reach them, send() for HTTP and connect() for TCP. apply() takes each new
 * config in place: a cluster or endpoint that stays keeps its connections, outlier state and
 * in-flight requests; one that goes drains (in-flight work finishes, then its connections close).
 */
import type net from 'node:net';
import type { Cluster, ClusterLoadAssignment, Endpoint, Secret } from '../../proxy-config/index.js';
import { ClusterState } from './cluster.js';
import { realClock, type SetTimer } from './clock.js';
import { UpstreamError } from './errors.js';
import { DEFAULT_RETRY_BUFFER_LIMIT } from './replay.js';
import { send, type SendEnv, type SendOptions, type UpstreamRequest, type UpstreamResponse } from './send.js';
import type { ClusterStats } from './stats.js';
import { connectTcp, type ConnectOptions } from './tcp.js';

export interface UpstreamsOptions {
  now?: () => number;
  random?: () => number;
  setTimer?: SetTimer;
  /** Request body bytes kept so a retry can resend them (default 1 MiB); larger bodies are not retried. */
  retryBufferLimitBytes?: number;
}

const UNLIMITED = 2 ** 32 - 1;

/** Fills what a malformed cluster lacks, so bad config degrades one cluster instead of the proxy. */
function sanitize(c: Cluster): Cluster {
  const cb: Partial<Cluster['circuitBreakers']> = c.circuitBreakers ?? {};
  return {
    ...c,
    protocol: c.protocol ?? 'http1',
    loadBalancer: c.loadBalancer && typeof c.loadBalancer.policy === 'string' ? c.loadBalancer : { policy: 'LEAST_REQUEST' },
    connectTimeoutMs: typeof c.connectTimeoutMs === 'number' ? c.connectTimeoutMs : 10_000,
    circuitBreakers: {
      maxConnections: cb.maxConnections ?? UNLIMITED,
      maxPendingRequests: cb.maxPendingRequests ?? UNLIMITED,
      maxRequests: cb.maxRequests ?? UNLIMITED,
      maxRetries: cb.maxRetries ?? UNLIMITED,
      maxRequestsPerConnection: cb.maxRequestsPerConnection ?? 0,
    },
  };
}

export class Upstreams {
  #clusters = new Map<string, ClusterState>();
  #removed = new Set<ClusterState>();
  #closed = false;
  readonly #env: SendEnv;

  constructor(opts: UpstreamsOptions = {}) {
    const clock = { now: opts.now ?? realClock.now, random: opts.random ?? realClock.random, setTimer: opts.setTimer ?? realClock.setTimer };
    this.#env = { clock, retryBufferLimit: opts.retryBufferLimitBytes ?? DEFAULT_RETRY_BUFFER_LIMIT };
  }

  /** `secrets` are ProxyConfig.secrets, which cluster TLS settings name. */
  apply(clusters: readonly Cluster[], assignments: readonly ClusterLoadAssignment[], secrets: readonly Secret[] = []): void {
    if (this.#closed) return;
    const endpoints = new Map<string, Endpoint[]>();
    for (const a of assignments ?? []) {
      if (!a || typeof a.cluster !== 'string' || !Array.isArray(a.endpoints)) continue;
      endpoints.set(a.cluster, [...(endpoints.get(a.cluster) ?? []), ...a.endpoints]);
    }
    const next = new Map<string, ClusterState>();
    for (const raw of clusters ?? []) {
      if (!raw || typeof raw.name !== 'string' || next.has(raw.name)) continue;
      const config = sanitize(raw);
      const eps = endpoints.get(config.name) ?? [];
      const existing = this.#clusters.get(config.name);
      if (existing) existing.update(config, eps, secrets);
      next.set(config.name, existing ?? new ClusterState(config, eps, this.#env.clock, secrets));
    }
    for (const [name, state] of this.#clusters) {
      if (next.has(name)) continue;
      this.#removed.add(state);
      void state.drain().finally(() => this.#removed.delete(state));
    }
    this.#clusters = next;
  }

  send(cluster: string, req: UpstreamRequest, opts: SendOptions = {}): Promise<UpstreamResponse> {
    const state = this.#closed ? undefined : this.#clusters.get(cluster);
    if (!state) return Promise.reject(UpstreamError.clusterNotFound(cluster));
    return send(state, req, opts, this.#env);
  }

  connect(cluster: string, opts: ConnectOptions = {}): Promise<{ socket: net.Socket; endpoint: Endpoint }> {
    const state = this.#closed ? undefined : this.#clusters.get(cluster);
    if (!state) return Promise.reject(UpstreamError.clusterNotFound(cluster));
    return connectTcp(state, opts);
  }

  snapshot(): ClusterStats[] {
    return [...this.#clusters.values(), ...this.#removed].map((c) => c.snapshot());
  }

  /** Everything stops now: pending requests fail, connections close, timers stop. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const state of [...this.#clusters.values(), ...this.#removed]) state.close();
    this.#clusters.clear();
    this.#removed.clear();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
