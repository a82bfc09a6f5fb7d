/**
 * What every stage may use besides the exchange itself: the upstream side, randomness and time
 * (injected so tests are exact and never sleep longer than they mean to), counters and the log.
 * One object per proxy, built in proxy.ts.
 */
import type { UpstreamPort } from './upstream-port.js';
import { DownstreamGoneError } from './errors.js';
import type { Stats } from './stats.js';
import type { Logger } from '../lib/log.js';

export interface ProxyServices {
  readonly upstreams: UpstreamPort;
  /** [0, 1), like Math.random: weights, fault percentages, mirror percentages. */
  readonly random: () => number;
  /** Waits `ms` (fault delays); rejects with DownstreamGoneError when `signal` aborts (the client went away). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly stats: Stats;
  readonly log: Logger;
  readonly newRequestId: () => string;
  /** Set while draining: responses say `connection: close` so clients move on. */
  readonly state: { draining: boolean };
}

export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DownstreamGoneError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DownstreamGoneError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
