/**
 * A short history of every proxy's scrapes, and per-second rates over a window read from it as
 * Prometheus' rate() reads counters: increases between consecutive scrapes, a drop counted as a
 * restart from zero. A series a proxy did not have at an earlier scrape started at zero then (the
 * proxy was up and said nothing of it), so the first requests of a new edge are not lost the way
 * rate() loses them. Memory is bounded by time: every scrape of the last two minutes, then one
 * per 30 s up to ten minutes, then nothing.
 */

export interface TargetInfo {
  /** The proxy's node id. */
  id: string;
  /** `host:port` scraped. */
  address: string;
  namespace: string;
  workload: string;
  role: string;
}

interface Scrape {
  at: number;
  values: Map<string, number>;
}

interface Target {
  info: TargetInfo;
  scrapes: Scrape[];
  lastError?: string;
  lastAttemptAt: number;
}

export interface HistoryLimits {
  /** Default 10 minutes: the longest window that can be asked for. */
  historyMs?: number;
  /** Default 2 minutes at full resolution. */
  fullResolutionMs?: number;
  /** Default 30 s between the older scrapes kept. */
  coarseStepMs?: number;
}

export interface TargetStatus extends TargetInfo {
  /** Epoch ms of the last good scrape. */
  lastScrapeAt?: number;
  /** Set while the latest attempt failed. */
  error?: string;
  samples: number;
}

export interface WindowRates {
  /** Per-second rate of every key that increased in the window, summed over proxies. */
  rates: Map<string, number>;
  /** The latest value of the TCP open/close counters, summed over proxies: open connections now. */
  latest: Map<string, number>;
  /** Proxies that contributed (scraped at least twice, last within the window). */
  targets: TargetInfo[];
  /** Duration bucket bounds the proxies use. */
  bounds: number[];
}

export class MetricsHistory {
  readonly #targets = new Map<string, Target>();
  readonly #historyMs: number;
  readonly #fullMs: number;
  readonly #stepMs: number;
  /** Bucket bounds seen; bounded so a strange proxy cannot grow it without end. */
  readonly #bounds = new Set<number>();

  constructor(limits: HistoryLimits = {}) {
    this.#historyMs = limits.historyMs ?? 600_000;
    this.#fullMs = limits.fullResolutionMs ?? 120_000;
    this.#stepMs = limits.coarseStepMs ?? 30_000;
  }

  get historyMs(): number {
    return this.#historyMs;
  }

  #target(info: TargetInfo, at: number): Target {
    const key = `${info.id}\u0001${info.address}`;
    let target = this.#targets.get(key);
    if (!target) this.#targets.set(key, (target = { info, scrapes: [], lastAttemptAt: at }));
    target.info = info;
    target.lastAttemptAt = at;
    return target;
  }

  record(info: TargetInfo, at: number, values: Map<string, number>, bounds: readonly number[] = []): void {
    for (const b of bounds) if (this.#bounds.size < 200) this.#bounds.add(b);
    const target = this.#target(info, at);
    delete target.lastError;
    target.scrapes.push({ at, values });
    this.#thin(target, at);
  }

  failed(info: TargetInfo, at: number, error: string): void {
    this.#target(info, at).lastError = error;
  }

  /** Drops scrapes past the history, and proxies with nothing left; the scraper calls it once a round. */
  prune(now: number): void {
    for (const [key, target] of this.#targets) {
      this.#thin(target, now);
      if (target.scrapes.length === 0 && now - target.lastAttemptAt > this.#historyMs) this.#targets.delete(key);
    }
  }

  #thin(target: Target, now: number): void {
    const kept: Scrape[] = [];
    let lastKept = -Infinity;
    for (const s of target.scrapes) {
      if (s.at < now - this.#historyMs) continue;
      if (s.at < now - this.#fullMs && s.at - lastKept < this.#stepMs) continue;
      kept.push(s);
      lastKept = s.at;
    }
    target.scrapes = kept;
  }

  status(): TargetStatus[] {
    return [...this.#targets.values()].map((t) => {
      const last = t.scrapes[t.scrapes.length - 1];
      return {
        ...t.info,
        samples: t.scrapes.length,
        ...(last ? { lastScrapeAt: last.at } : {}),
        ...(t.lastError !== undefined ? { error: t.lastError } : {}),
      };
    });
  }

  /**
   * Rates over the `windowMs` before each proxy's latest scrape at or before `end` (only proxies
   * scraped within `windowMs` of `end`): `end` is now for the graph, a past moment for a chart.
   */
  rates(windowMs: number, end: number): WindowRates {
    const rates = new Map<string, number>();
    const latest = new Map<string, number>();
    const targets: TargetInfo[] = [];
    for (const target of this.#targets.values()) {
      let count = target.scrapes.length;
      while (count > 0 && (target.scrapes[count - 1]?.at ?? 0) > end) count--;
      const scrapes = count === target.scrapes.length ? target.scrapes : target.scrapes.slice(0, count);
      const last = scrapes[scrapes.length - 1];
      if (!last || last.at < end - windowMs) continue;
      for (const [key, value] of last.values) {
        if (key.startsWith('tcpo\u0002') || key.startsWith('tcpc\u0002')) latest.set(key, (latest.get(key) ?? 0) + value);
      }
      // The base is the newest scrape at least a window old, or the oldest there is.
      let base = 0;
      for (let i = scrapes.length - 1; i >= 0; i--) {
        if ((scrapes[i]?.at ?? 0) <= last.at - windowMs) {
          base = i;
          break;
        }
      }
      const first = scrapes[base];
      if (!first || first === last) continue;
      const seconds = (last.at - first.at) / 1000;
      targets.push(target.info);
      for (let i = base + 1; i < scrapes.length; i++) {
        const previous = (scrapes[i - 1] as Scrape).values;
        for (const [key, value] of (scrapes[i] as Scrape).values) {
          const before = previous.get(key) ?? 0;
          const increase = value >= before ? value - before : value;
          if (increase > 0) rates.set(key, (rates.get(key) ?? 0) + increase / seconds);
        }
      }
    }
    return { rates, latest, targets, bounds: [...this.#bounds].sort((a, b) => a - b) };
  }
}
