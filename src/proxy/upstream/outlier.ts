/**
 * Outlier detection with Envoy's semantics (source/common/upstream/outlier_detection_impl.cc):
 * - consecutive 5xx (and, if configured, consecutive 502/503/504 gateway errors) eject a host the
 *   moment the count reaches the threshold; 0 disables a detector;
 * - with splitExternalLocalOriginErrors, connect failures, resets and timeouts count as local
 *   origin failures instead, against consecutiveLocalOriginFailures; without it they count as
 *   503 (reset, connect failure) or 504 (timeout);
 * - an ejection is refused when it would take the ejected share above maxEjectionPercent of all
 *   hosts (100 * (ejected + 1) / hosts);
 * - an ejected host returns at the first interval tick after baseEjectionTime x its ejection
 *   backoff (capped at 300s); the backoff grows by one per ejection and shrinks by one for each
 *   interval the host stays healthy after returning;
 * - minHealthPercent is Envoy's panic threshold and lives in the cluster's host selection.
 * Success-rate detection is off, as Istio configures it.
 */
import type { OutlierDetection } from '../../proxy-config/index.js';
import type { Clock, Timer } from './clock.js';

const DEFAULT_INTERVAL_MS = 10_000;
const DEFAULT_BASE_EJECTION_MS = 30_000;
const DEFAULT_MAX_EJECTION_MS = 300_000;

export class HostOutlierState {
  ejected = false;
  lastEjectedAt: number | undefined;
  lastUnejectedAt: number | undefined;
  /** Envoy's ejectTimeBackoff: multiplies baseEjectionTime. */
  backoff = 0;
  /** Ejections over the host's lifetime. */
  ejections = 0;
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveLocal = 0;

  resetCounters(): void {
    this.consecutive5xx = 0;
    this.consecutiveGateway = 0;
    this.consecutiveLocal = 0;
  }
}

export interface OutlierHost {
  readonly outlier: HostOutlierState;
}

/** What one upstream attempt told us about its host. */
export type OutlierEvent =
  | { kind: 'http'; status: number }
  /**
   * The request got a connection (Envoy's LocalOriginConnectSuccess); `final` when connecting
   * is the whole job, as for TCP proxying (LocalOriginConnectSuccessFinal, which counts as a 200).
   */
  | { kind: 'connect-success'; final?: boolean }
  /** Connect failure or reset before headers (the router reports both as LocalOriginConnectFailed). */
  | { kind: 'connect-failed' }
  | { kind: 'timeout' };

type EjectionType = 'consecutive5xx' | 'consecutiveGateway' | 'consecutiveLocal';

export interface OutlierStats {
  ejectionsActive: number;
  ejectionsEnforcedTotal: number;
  ejectionsOverflow: number;
  ejectionsDetected: Record<EjectionType, number>;
}

const positive = (v: number, fallback: number): number => (Number.isFinite(v) && v > 0 ? v : fallback);

export class OutlierDetector<H extends OutlierHost> {
  #config: OutlierDetection;
  #timer: Timer | undefined;
  #stopped = false;
  readonly stats: Omit<OutlierStats, 'ejectionsActive'> = {
    ejectionsEnforcedTotal: 0,
    ejectionsOverflow: 0,
    ejectionsDetected: { consecutive5xx: 0, consecutiveGateway: 0, consecutiveLocal: 0 },
  };

  constructor(
    config: OutlierDetection,
    private readonly clock: Clock,
    private readonly hosts: () => readonly H[],
    private readonly onChange: (host: H) => void,
  ) {
    this.#config = config;
    this.#arm();
  }

  get intervalMs(): number {
    return positive(this.#config.intervalMs, DEFAULT_INTERVAL_MS);
  }

  get baseEjectionTimeMs(): number {
    return positive(this.#config.baseEjectionTimeMs, DEFAULT_BASE_EJECTION_MS);
  }

  get maxEjectionTimeMs(): number {
    return Math.max(DEFAULT_MAX_EJECTION_MS, this.baseEjectionTimeMs);
  }

  update(config: OutlierDetection): void {
    const rearm = positive(config.intervalMs, DEFAULT_INTERVAL_MS) !== this.intervalMs;
    this.#config = config;
    if (rearm) this.#arm();
  }

  ejectionsActive(): number {
    return this.hosts().filter((h) => h.outlier.ejected).length;
  }

  /** When an ejected host becomes eligible to return (it does at the next interval tick). */
  ejectedUntil(host: H): number | undefined {
    const o = host.outlier;
    if (!o.ejected || o.lastEjectedAt === undefined) return undefined;
    return o.lastEjectedAt + Math.min(this.baseEjectionTimeMs * o.backoff, this.maxEjectionTimeMs);
  }

  report(host: H, event: OutlierEvent): void {
    if (this.#stopped) return;
    if (this.#config.splitExternalLocalOriginErrors) {
      if (event.kind === 'http') this.#putHttpCode(host, event.status);
      else if (event.kind === 'connect-success') host.outlier.consecutiveLocal = 0;
      else this.#localOriginFailure(host);
      return;
    }
    if (event.kind === 'http') this.#putHttpCode(host, event.status);
    else if (event.kind === 'connect-success' && event.final) this.#putHttpCode(host, 200);
    else if (event.kind === 'connect-failed') this.#putHttpCode(host, 503);
    else if (event.kind === 'timeout') this.#putHttpCode(host, 504);
  }

  /** One interval: return hosts whose ejection time has passed, then decay backoffs. */
  tick(): void {
    const now = this.clock.now();
    const hosts = this.hosts();
    for (const host of hosts) {
      const until = this.ejectedUntil(host);
      if (until !== undefined && until <= now) this.#uneject(host, now);
    }
    for (const host of hosts) {
      const o = host.outlier;
      if (!o.ejected && o.lastUnejectedAt !== undefined && now - o.lastUnejectedAt >= this.intervalMs && o.backoff > 0) o.backoff--;
    }
  }

  /** Detection stops; hosts it ejected are returned to service. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    for (const host of this.hosts()) {
      if (host.outlier.ejected) this.#uneject(host, this.clock.now());
    }
  }

  #arm(): void {
    this.#timer?.cancel();
    if (this.#stopped) return;
    this.#timer = this.clock.setTimer(
      () => {
        this.tick();
        this.#arm();
      },
      this.intervalMs,
      { unref: true },
    );
  }

  #putHttpCode(host: H, status: number): void {
    const o = host.outlier;
    if (status >= 500 && status < 600) {
      if (status >= 502 && status <= 504) {
        if (++o.consecutiveGateway === this.#config.consecutiveGatewayErrors) this.#onConsecutive(host, 'consecutiveGateway');
      } else {
        o.consecutiveGateway = 0;
      }
      if (++o.consecutive5xx === this.#config.consecutive5xxErrors) this.#onConsecutive(host, 'consecutive5xx');
    } else {
      o.consecutive5xx = 0;
      o.consecutiveGateway = 0;
    }
  }

  #localOriginFailure(host: H): void {
    if (++host.outlier.consecutiveLocal === this.#config.consecutiveLocalOriginFailures) this.#onConsecutive(host, 'consecutiveLocal');
  }

  #onConsecutive(host: H, type: EjectionType): void {
    if (host.outlier.ejected) return;
    this.stats.ejectionsDetected[type]++;
    this.#eject(host);
    host.outlier[type] = 0;
  }

  #eject(host: H): void {
    const hosts = this.hosts();
    const maxPercent = Math.min(100, Math.max(0, this.#config.maxEjectionPercent));
    const ejectedPercent = (100 * (this.ejectionsActive() + 1)) / Math.max(1, hosts.length);
    if (ejectedPercent > maxPercent) {
      this.stats.ejectionsOverflow++;
      return;
    }
    const o = host.outlier;
    o.ejected = true;
    o.ejections++;
    o.lastEjectedAt = this.clock.now();
    if (o.backoff * this.baseEjectionTimeMs < this.maxEjectionTimeMs + this.baseEjectionTimeMs) o.backoff++;
    this.stats.ejectionsEnforcedTotal++;
    this.onChange(host);
  }

  #uneject(host: H, now: number): void {
    host.outlier.ejected = false;
    host.outlier.resetCounters();
    host.outlier.lastUnejectedAt = now;
    this.onChange(host);
  }
}
