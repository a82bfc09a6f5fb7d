/**
 * A cluster as the proxy runs it: its hosts (kept across config updates by `ip:port`), the
 * balancer over those eligible for traffic, circuit breakers, outlier detection and counters.
 * Eligible means healthy in EDS and not ejected, unless the healthy share falls below
 * minHealthPercent (Envoy's healthy_panic_threshold, which Istio sets from it and otherwise
 * leaves off), in which case every host is used. PASSTHROUGH / original-dst clusters make a
 * host per original destination instead and forget it after an idle interval (Envoy: 5s).
 */
import type { Cluster, Endpoint, Secret } from '../../proxy-config/index.js';
import { CircuitBreakers } from './circuit-breakers.js';
import type { Clock, Timer } from './clock.js';
import { Host, type HttpProtocol } from './host.js';
import { createLoadBalancer, createPrioritySet, isConsistentHash, type LoadBalancer, type Placement } from './lb/index.js';
import { OutlierDetector } from './outlier.js';
import type { PoolSettings } from './pool.js';
import { hostKey } from './socket.js';
import type { ClusterCounters, ClusterStats, EndpointStats } from './stats.js';
import { clusterTls, originationFor, type ClusterTls, type Origination } from './tls.js';

/** Istio's hostSelectionRetryMaxAttempts for the previous_hosts retry predicate. */
const HOST_SELECTION_RETRY_MAX_ATTEMPTS = 5;
const ORIGINAL_DST_CLEANUP_MS = 5_000;

function validEndpoint(ep: Endpoint | undefined): ep is Endpoint {
  if (!ep || typeof ep.address !== 'string' || ep.address === '') return false;
  // A Unix domain socket (a Sidecar ingress defaultEndpoint `unix:///path`) has no port.
  if (ep.address.startsWith('unix:///')) return true;
  return Number.isInteger(ep.port) && ep.port > 0 && ep.port < 65536;
}

function connectionShape(c: Cluster): string {
  return JSON.stringify([c.protocol, c.connectTimeoutMs, c.idleTimeoutMs, c.tls ?? null, c.upstreamBindAddress ?? null, c.tcpKeepalive ?? null]);
}

/** Does the control plane place this endpoint by priority or locality weight? */
function placed(ep: Endpoint): boolean {
  return (typeof ep.priority === 'number' && ep.priority > 0) || typeof ep.localityWeight === 'number';
}

function placement(ep: Endpoint): Placement {
  const priority = typeof ep.priority === 'number' && Number.isInteger(ep.priority) && ep.priority > 0 ? ep.priority : 0;
  const weight = ep.localityWeight;
  return { priority, locality: ep.locality ?? '', ...(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0 ? { localityWeight: weight } : {}) };
}

function identity(ep: Endpoint): string {
  return ep.workload ? `${ep.workload.namespace}/${ep.workload.serviceAccount}` : '';
}

export class ClusterState {
  config: Cluster;
  readonly breakers: CircuitBreakers;
  readonly counters: ClusterCounters = { requests: 0, attempts: 0, retries: 0, timeouts: 0, perTryTimeouts: 0, noHealthyUpstream: 0, connectFailures: 0 };
  outlier: OutlierDetector<Host> | undefined;
  draining = false;
  #hosts = new Map<string, Host>();
  #leaving = new Set<Host>();
  #dynamic = new Map<string, { host: Host; seen: number }>();
  #sweep: Timer | undefined;
  #lb: LoadBalancer<Host> | undefined;
  #panic = false;
  #dirty = true;
  #settings: PoolSettings = { connectTimeoutMs: 10_000, idleTimeoutMs: 3_600_000 };
  #tls: ClusterTls = {};
  #tlsShape = '{}';

  constructor(
    config: Cluster,
    endpoints: readonly Endpoint[],
    private readonly clock: Clock,
    secrets: readonly Secret[] = [],
  ) {
    this.config = config;
    this.breakers = new CircuitBreakers(config.circuitBreakers);
    this.update(config, endpoints, secrets);
  }

  /** How connections to an endpoint with this tlsMode are secured; undefined: plaintext. */
  tlsFor(tlsMode: string | undefined, workload?: Endpoint['workload']): Origination | undefined {
    return originationFor(this.#tls, tlsMode, workload);
  }

  get name(): string {
    return this.config.name;
  }

  get consistentHash(): boolean {
    return isConsistentHash(this.config.loadBalancer);
  }

  get originalDestination(): boolean {
    return this.config.discovery === 'original-dst' || this.config.loadBalancer.policy === 'PASSTHROUGH';
  }

  /** `auto` follows the downstream protocol, as Istio's USE_DOWNSTREAM_PROTOCOL. */
  protocolFor(downstreamHttp2: boolean | undefined): HttpProtocol {
    if (this.config.protocol === 'http2') return 'http2';
    if (this.config.protocol === 'auto' && downstreamHttp2) return 'http2';
    return 'http1';
  }

  update(config: Cluster, endpoints: readonly Endpoint[], secrets: readonly Secret[] = []): void {
    const tls = clusterTls(config, Array.isArray(secrets) ? secrets : []);
    const tlsShape = JSON.stringify(tls);
    // New certificates or trust roots take effect on new connections only, as with SDS rotation.
    const reconnect = connectionShape(this.config) !== connectionShape(config) || tlsShape !== this.#tlsShape;
    this.#tls = tls;
    this.#tlsShape = tlsShape;
    this.config = config;
    this.breakers.update(config.circuitBreakers);
    this.#settings = { connectTimeoutMs: config.connectTimeoutMs, idleTimeoutMs: config.idleTimeoutMs ?? 3_600_000, tls, ...(config.upstreamBindAddress ? { localAddress: config.upstreamBindAddress } : {}), ...(config.tcpKeepalive ? { keepalive: config.tcpKeepalive } : {}) };
    const next = new Map<string, Host>();
    for (const ep of endpoints) {
      if (!validEndpoint(ep)) continue;
      const key = hostKey(ep.address, ep.port);
      if (next.has(key)) continue;
      const host = this.#hosts.get(key);
      // Auto mTLS keys connections by the endpoint's tlsMode and identity, so a change needs fresh pools.
      if (host && (host.endpoint.tlsMode !== ep.tlsMode || identity(host.endpoint) !== identity(ep))) host.retirePools();
      if (host) host.endpoint = ep;
      next.set(key, host ?? this.#newHost(ep));
    }
    for (const [key, host] of this.#hosts) if (!next.has(key)) this.#leave(host);
    this.#hosts = next;
    if (reconnect) for (const host of next.values()) host.retirePools();
    if (config.outlierDetection) {
      if (this.outlier) this.outlier.update(config.outlierDetection);
      else this.outlier = new OutlierDetector(config.outlierDetection, this.clock, () => [...this.#hosts.values()], () => (this.#dirty = true));
    } else if (this.outlier) {
      this.outlier.stop();
      this.outlier = undefined;
    }
    this.#dirty = true;
  }

  /**
   * A host for the next attempt, avoiding `exclude` (previous hosts) for up to 5 extra picks and
   * the priority levels in `excludePriorities` (retryRemoteLocalities) where others have health.
   */
  pickHost(hash: bigint | undefined, exclude?: ReadonlySet<Host>, excludePriorities?: ReadonlySet<number>): Host | undefined {
    if (this.#dirty) this.#rebuild();
    const lb = this.#lb;
    if (!lb) return undefined;
    const selections = exclude && exclude.size > 0 ? HOST_SELECTION_RETRY_MAX_ATTEMPTS + 1 : 1;
    let host: Host | undefined;
    for (let attempt = 0; attempt < selections; attempt++) {
      host = lb.pick(excludePriorities && excludePriorities.size > 0 ? { hash, attempt, excludePriorities } : { hash, attempt });
      if (!host || !exclude?.has(host)) break;
    }
    return host;
  }

  /** The host's priority level, as the priority set groups it (0 when unplaced). */
  priorityOf(host: Host): number {
    return placement(host.endpoint).priority;
  }

  /** The host for an original destination (PASSTHROUGH), made on first use. */
  originalDestinationHost(address: string, port: number): Host | undefined {
    if (!validEndpoint({ address, port, weight: 1, labels: {}, tlsMode: 'disabled', healthy: true })) return undefined;
    const key = hostKey(address, port);
    let entry = this.#dynamic.get(key);
    if (!entry) {
      entry = { host: this.#newHost({ address, port, weight: 1, labels: {}, tlsMode: 'disabled', healthy: true }), seen: -1 };
      this.#dynamic.set(key, entry);
      this.#armSweep();
    }
    return entry.host;
  }

  hosts(): Host[] {
    return [...this.#hosts.values()];
  }

  /** The cluster was removed: in-flight requests finish, connections then close. */
  async drain(): Promise<void> {
    this.draining = true;
    this.outlier?.stop();
    this.#sweep?.cancel();
    const all = [...this.#hosts.values(), ...this.#leaving, ...[...this.#dynamic.values()].map((e) => e.host)];
    await Promise.all(all.map((h) => h.drain()));
  }

  close(): void {
    this.draining = true;
    this.outlier?.stop();
    this.#sweep?.cancel();
    for (const h of [...this.#hosts.values(), ...this.#leaving, ...[...this.#dynamic.values()].map((e) => e.host)]) h.close();
  }

  snapshot(): ClusterStats {
    if (this.#dirty) this.#rebuild();
    const hosts = [...this.#hosts.values(), ...this.#leaving, ...[...this.#dynamic.values()].map((e) => e.host)];
    const endpoints = hosts.map((h) => this.#endpointStats(h));
    const sum = (f: (e: EndpointStats) => number): number => endpoints.reduce((n, e) => n + f(e), 0);
    const cb = this.breakers;
    const stats: ClusterStats = {
      name: this.name,
      protocol: this.config.protocol,
      loadBalancer: this.config.loadBalancer.policy,
      panic: this.#panic,
      draining: this.draining,
      endpoints,
      activeRequests: sum((e) => e.activeRequests),
      pendingRequests: cb.open.pending,
      connections: cb.open.connections,
      activeRetries: cb.open.retries,
      circuitBreakers: {
        maxConnections: cb.limit('connections'),
        maxPendingRequests: cb.limit('pending'),
        maxRequests: cb.limit('requests'),
        maxRetries: cb.limit('retries'),
        maxRequestsPerConnection: cb.maxRequestsPerConnection,
      },
      overflow: { ...cb.overflow },
      counters: { ...this.counters },
    };
    if (this.outlier) stats.outlierDetection = { ejectionsActive: this.outlier.ejectionsActive(), ...this.outlier.stats, ejectionsDetected: { ...this.outlier.stats.ejectionsDetected } };
    return stats;
  }

  #newHost(ep: Endpoint): Host {
    return new Host(ep, () => this.#settings, this.breakers);
  }

  #leave(host: Host): void {
    this.#leaving.add(host);
    void host.drain().finally(() => this.#leaving.delete(host));
  }

  #rebuild(): void {
    const all = [...this.#hosts.values()];
    const threshold = this.config.outlierDetection?.minHealthPercent ?? 0;
    if (all.some((h) => placed(h.endpoint))) {
      // Locality load balancing: priority levels and locality weights (lb/priority.ts).
      const set = createPrioritySet(this.config.loadBalancer, all, (h) => h.healthy && !h.outlier.ejected, (h) => placement(h.endpoint), threshold, this.clock.random);
      this.#lb = set.lb;
      this.#panic = set.panic;
      this.#dirty = false;
      return;
    }
    const healthy = all.filter((h) => h.healthy && !h.outlier.ejected);
    this.#panic = all.length > 0 && (100 * healthy.length) / all.length < threshold;
    this.#lb = createLoadBalancer(this.config.loadBalancer, this.#panic ? all : healthy, this.clock.random);
    this.#dirty = false;
  }

  #armSweep(): void {
    if (this.#sweep || this.draining) return;
    this.#sweep = this.clock.setTimer(
      () => {
        this.#sweep = undefined;
        for (const [key, entry] of this.#dynamic) {
          const idle = entry.host.activeRequests === 0 && entry.host.requestsTotal === entry.seen;
          if (idle) {
            this.#dynamic.delete(key);
            this.#leave(entry.host);
          } else {
            entry.seen = entry.host.requestsTotal;
          }
        }
        if (this.#dynamic.size > 0) this.#armSweep();
      },
      ORIGINAL_DST_CLEANUP_MS,
      { unref: true },
    );
  }

  #endpointStats(h: Host): EndpointStats {
    const o = h.outlier;
    const stats: EndpointStats = {
      address: h.endpoint.address,
      port: h.endpoint.port,
      weight: h.weight,
      labels: h.endpoint.labels ?? {},
      healthy: h.healthy,
      ejected: o.ejected,
      ejections: o.ejections,
      consecutive5xxErrors: o.consecutive5xx,
      consecutiveGatewayErrors: o.consecutiveGateway,
      consecutiveLocalOriginFailures: o.consecutiveLocal,
      activeRequests: h.activeRequests,
      pendingRequests: h.pending,
      connections: h.connections,
      requestsTotal: h.requestsTotal,
      draining: h.draining,
    };
    const until = this.outlier?.ejectedUntil(h);
    if (until !== undefined) stats.ejectedUntil = until;
    return stats;
  }
}
