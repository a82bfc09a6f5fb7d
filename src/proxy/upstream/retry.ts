/**
 * Retry decisions as Envoy's RetryStateImpl makes them (source/common/router/retry_state_impl.cc):
 * - on response headers: `5xx` any 5xx; `gateway-error` 502/503/504; `retriable-4xx` 409;
 *   `retriable-status-codes` the listed codes; `cancelled`, `deadline-exceeded`, `internal`,
 *   `resource-exhausted`, `unavailable` by the grpc-status response header; never when the
 *   upstream says x-envoy-overloaded or x-envoy-ratelimited;
 * - on a reset before headers: never for overflow; `reset`, `5xx` and `gateway-error` retry any
 *   other reset (a per-try timeout is a local reset); `connect-failure` retries connection
 *   failures, `refused-stream` refused streams;
 * - `attempts` retries at most (attempts 0 disables); each needs a cluster `maxRetries` slot,
 *   held until the retried attempt ends (overflow ends retrying with UO);
 * - backoff between tries is Envoy's fully jittered exponential backoff: random in
 *   [0, base x 2^n) capped at 10 x base, with base 25ms unless configured;
 * - retryRemoteLocalities is Envoy's previous_priorities retry priority with the
 *   update_frequency 2 Istio configures: the first retry balances as usual, the second skips the
 *   priority levels of the first two attempts, the fourth those of the first four, and so on.
 */
import type { RetryPolicy } from '../../proxy-config/index.js';
import type { CircuitBreakers } from './circuit-breakers.js';
import { randomUint32 } from './clock.js';
import type { ResetReason } from './errors.js';
import type { Headers } from './headers.js';

const GRPC_CODES: Record<string, number> = { cancelled: 1, 'deadline-exceeded': 4, 'resource-exhausted': 8, internal: 13, unavailable: 14 };
const DEFAULT_BACKOFF_BASE_MS = 25;

export type RetryDecision = 'yes' | 'no' | 'limit' | 'overflow';

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** What a RetryPolicy says, parsed once per policy object (configs are immutable once applied). */
interface ParsedPolicy {
  readonly on: ReadonlySet<string>;
  readonly codes: ReadonlySet<number>;
  readonly grpc: ReadonlySet<number>;
  readonly attempts: number;
  readonly backoffBaseMs: number;
  readonly perTryTimeoutMs: number;
  readonly ignorePreviousHosts: boolean;
  readonly retryRemoteLocalities: boolean;
}

const NO_POLICY: ParsedPolicy = { on: new Set(), codes: new Set(), grpc: new Set(), attempts: 0, backoffBaseMs: DEFAULT_BACKOFF_BASE_MS, perTryTimeoutMs: 0, ignorePreviousHosts: false, retryRemoteLocalities: false };
const parsedPolicies = new WeakMap<RetryPolicy, ParsedPolicy>();

function parsePolicy(policy: RetryPolicy | undefined): ParsedPolicy {
  if (!policy) return NO_POLICY;
  let parsed = parsedPolicies.get(policy);
  if (parsed) return parsed;
  const on = new Set<string>();
  const codes = new Set<number>();
  const grpc = new Set<number>();
  for (const raw of policy.retryOn ?? []) {
    const cond = raw.trim();
    // Istio turns numbers in retryOn into retriable_status_codes; accept them here too.
    if (/^\d{3}$/.test(cond)) {
      codes.add(Number(cond));
      on.add('retriable-status-codes');
    } else if (cond in GRPC_CODES) {
      grpc.add(GRPC_CODES[cond] as number);
    } else {
      on.add(cond);
    }
  }
  for (const code of policy.retriableStatusCodes ?? []) codes.add(code);
  const attempts = Number.isFinite(policy.attempts) ? Math.max(0, Math.floor(policy.attempts)) : 0;
  parsed = {
    on,
    codes,
    grpc,
    attempts: on.size + grpc.size > 0 ? attempts : 0,
    backoffBaseMs: Number.isFinite(policy.backoffBaseMs) && policy.backoffBaseMs > 0 ? policy.backoffBaseMs : DEFAULT_BACKOFF_BASE_MS,
    perTryTimeoutMs: policy.perTryTimeoutMs && policy.perTryTimeoutMs > 0 ? policy.perTryTimeoutMs : 0,
    ignorePreviousHosts: policy.ignorePreviousHosts ?? false,
    retryRemoteLocalities: policy.retryRemoteLocalities === true,
  };
  parsedPolicies.set(policy, parsed);
  return parsed;
}

/** One request's retry budget; the policy's parsed form is shared, so a request allocates one small object. */
export class RetryState {
  readonly #on: ReadonlySet<string>;
  readonly #codes: ReadonlySet<number>;
  readonly #grpc: ReadonlySet<number>;
  #remaining: number;
  #nextBackoff: number;
  readonly #maxBackoff: number;
  #holding: CircuitBreakers | undefined;
  readonly perTryTimeoutMs: number;
  readonly ignorePreviousHosts: boolean;
  readonly retryRemoteLocalities: boolean;

  constructor(
    policy: RetryPolicy | undefined,
    private readonly random: () => number,
  ) {
    const parsed = parsePolicy(policy);
    this.#on = parsed.on;
    this.#codes = parsed.codes;
    this.#grpc = parsed.grpc;
    this.#remaining = parsed.attempts;
    this.#nextBackoff = parsed.backoffBaseMs;
    this.#maxBackoff = parsed.backoffBaseMs * 10;
    this.perTryTimeoutMs = parsed.perTryTimeoutMs;
    this.ignorePreviousHosts = parsed.ignorePreviousHosts;
    this.retryRemoteLocalities = parsed.retryRemoteLocalities;
  }

  /** Whether any retry can ever happen (decides whether request bodies are kept for replay). */
  get enabled(): boolean {
    return this.#remaining > 0;
  }

  wouldRetryHeaders(status: number, headers: Headers): boolean {
    if (headers['x-envoy-overloaded'] !== undefined || headers['x-envoy-ratelimited'] !== undefined) return false;
    if (this.#on.has('5xx') && status >= 500 && status < 600) return true;
    if (this.#on.has('gateway-error') && status >= 502 && status <= 504) return true;
    if (this.#on.has('retriable-4xx') && status === 409) return true;
    if (this.#on.has('retriable-status-codes') && this.#codes.has(status)) return true;
    if (this.#grpc.size > 0) {
      const grpcStatus = header(headers, 'grpc-status');
      if (grpcStatus !== undefined && this.#grpc.has(Number(grpcStatus))) return true;
    }
    return false;
  }

  wouldRetryReset(reason: ResetReason): boolean {
    if (reason === 'overflow') return false;
    if (this.#on.has('reset') || this.#on.has('5xx') || this.#on.has('gateway-error')) return true;
    if (this.#on.has('refused-stream') && reason === 'remote refused stream reset') return true;
    if (this.#on.has('connect-failure') && reason === 'connection failure') return true;
    return false;
  }

  /** Envoy's shouldRetry: the retry slot taken by an earlier retry is given back first. */
  shouldRetry(would: boolean, breakers: CircuitBreakers): RetryDecision {
    this.release();
    if (!would) return 'no';
    if (this.#remaining === 0) return 'limit';
    this.#remaining--;
    if (!breakers.tryAcquire('retries')) return 'overflow';
    this.#holding = breakers;
    return 'yes';
  }

  /** JitteredExponentialBackOffStrategy::nextBackOffMs. */
  nextBackoffMs(): number {
    const backoff = this.#nextBackoff;
    this.#nextBackoff = backoff > this.#maxBackoff / 2 ? this.#maxBackoff : backoff * 2;
    return Math.min(randomUint32(this.random) % Math.max(1, Math.floor(backoff)), this.#maxBackoff);
  }

  release(): void {
    this.#holding?.release('retries');
    this.#holding = undefined;
  }
}

/** Istio's buildPreviousPrioritiesConfig: the skipped levels are recomputed every second attempt. */
const PRIORITY_UPDATE_FREQUENCY = 2;
const NONE: ReadonlySet<number> = new Set();

/** Envoy's PreviousPrioritiesRetryPriority: which priority levels a request's next retry skips. */
export class PreviousPriorities {
  readonly #attempted: number[] = [];
  readonly #excluded = new Set<number>();

  onHostAttempted(priority: number): void {
    this.#attempted.push(priority);
  }

  /**
   * The levels the next attempt skips. When that is every level the balancer uses its usual
   * loads; Envoy then also forgets the attempts so far, which only delays later skips.
   */
  forRetry(): ReadonlySet<number> {
    const n = this.#attempted.length;
    if (n < PRIORITY_UPDATE_FREQUENCY) return NONE;
    if (n % PRIORITY_UPDATE_FREQUENCY === 0) for (const p of this.#attempted) this.#excluded.add(p);
    return this.#excluded;
  }
}
