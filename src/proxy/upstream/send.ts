/**
 * One request through a cluster, as Envoy's router drives it upstream: pick a host, attempt,
 * and on a retriable outcome back off and try again (other hosts first when the policy ignores
 * previous hosts). The route timeout and the per-try timeout start once the downstream request
 * is complete, as in Envoy, and keep running while the response body streams: firing after the
 * headers went out, they cut the body with UT instead of answering 504. A response is handed
 * over only when it will not be retried, so no retry ever follows bytes sent downstream.
 */
import type { Readable } from 'node:stream';
import type { Endpoint, RetryPolicy } from '../../proxy-config/index.js';
import { Cancellation } from './cancel.js';
import type { ClusterState } from './cluster.js';
import type { Clock, Timer } from './clock.js';
import { ResetError, UpstreamError, type ResponseFlag } from './errors.js';
import type { Headers } from './headers.js';
import type { Host } from './host.js';
import { xxHash64 } from './lb/xxhash64.js';
import type { AttemptOptions, AttemptResponse } from './pool.js';
import { requestBody } from './replay.js';
import { PreviousPriorities, RetryState } from './retry.js';

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Readable | Buffer | null;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Readable;
  /** The whole body, already received: a consumer may write it instead of reading `body` (pool.ts). */
  completeBody?: Buffer;
  trailers?: Promise<Record<string, string>>;
  endpoint: Endpoint;
  attempts: number;
  /** URX (retries exhausted) or UO (retry overflow) when a retriable response is returned anyway. */
  flags: ResponseFlag[];
  protocol: 'http1' | 'http2';
  /** Request complete to response headers: Envoy's x-envoy-upstream-service-time. */
  serviceTimeMs: number;
}

export interface SendOptions {
  /** Route timeout; 0 or absent: none (Istio's default). */
  timeoutMs?: number;
  retry?: RetryPolicy;
  /** The value the route's hash policy produced (header, cookie, source IP, query parameter). */
  hashKey?: string;
  /** Aborted when the downstream goes away. */
  signal?: AbortSignal;
  /** The downstream spoke HTTP/2 (for clusters with protocol `auto`). */
  http2?: boolean;
  /** For PASSTHROUGH / original-dst clusters: where the connection was originally headed. */
  originalDestination?: { address: string; port: number };
}

export interface SendEnv {
  clock: Clock;
  retryBufferLimit: number;
}

const ROUTE_TIMEOUT = Symbol('route timeout');
const ONCE = { once: true } as const;
const noop = (): void => {};
const NO_ATTEMPT_OPTIONS: AttemptOptions = {};
/** The flags of a response that was not retried; shared because it is only ever read. */
const NO_FLAGS: ResponseFlag[] = [];
const PER_TRY_TIMEOUT = Symbol('per-try timeout');
const DOWNSTREAM_GONE = Symbol('downstream gone');

/** Envoy's Grpc::Utility::grpcToHttpStatus, for outlier detection of gRPC responses. */
const GRPC_TO_HTTP = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

function outlierStatus(status: number, headers: Headers): number {
  const raw = headers['grpc-status'];
  const grpc = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isInteger(grpc) ? (GRPC_TO_HTTP[grpc] ?? 500) : status;
}

function sleep(clock: Clock, ms: number, cancel: Cancellation | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (cancel?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      timer.cancel();
      unsubscribe();
      resolve();
    };
    const timer = clock.setTimer(done, ms);
    const unsubscribe = cancel ? cancel.onAbort(done) : noop;
  });
}

/**
 * The attempt's response with what the request adds (endpoint, attempts, flags), its body,
 * completeBody and trailers read through, so that what the pool makes lazily stays lazy.
 */
class SentResponse implements UpstreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly protocol: 'http1' | 'http2';
  readonly #attempt: AttemptResponse;

  constructor(
    attempt: AttemptResponse,
    readonly endpoint: Endpoint,
    readonly attempts: number,
    readonly flags: ResponseFlag[],
    readonly serviceTimeMs: number,
  ) {
    this.#attempt = attempt;
    this.status = attempt.status;
    this.headers = attempt.headers;
    this.protocol = attempt.protocol;
  }

  get body(): Readable {
    return this.#attempt.body;
  }

  get completeBody(): Buffer | undefined {
    return this.#attempt.completeBody;
  }

  get trailers(): Promise<Record<string, string>> {
    return this.#attempt.trailers;
  }
}

export async function send(cluster: ClusterState, req: UpstreamRequest, opts: SendOptions, env: SendEnv): Promise<UpstreamResponse> {
  const { clock } = env;
  cluster.counters.requests++;
  const retry = new RetryState(opts.retry, clock.random);
  const body = requestBody(req.body, retry.enabled, env.retryBufferLimit);
  const hash = cluster.consistentHash && opts.hashKey !== undefined ? xxHash64(opts.hashKey) : undefined;
  const protocol = cluster.protocolFor(opts.http2);
  // Hosts already tried, for a policy that ignores them; filled only when a retry is decided.
  let tried: Set<Host> | undefined;
  const previousPriorities = retry.retryRemoteLocalities && retry.enabled ? new PreviousPriorities() : undefined;
  const perTryTimeoutMs = retry.perTryTimeoutMs;

  // Ends the whole request: route timeout or downstream gone (its reason says which). Made only
  // when either can happen; without it (and without a per-try timeout) attempts run uncancelled.
  const signal = opts.signal;
  const timeoutMs = opts.timeoutMs && opts.timeoutMs > 0 ? opts.timeoutMs : 0;
  const overall = signal || timeoutMs > 0 ? new Cancellation() : undefined;
  const onDownstreamAbort = (): void => overall?.abort(DOWNSTREAM_GONE);
  if (signal) {
    if (signal.aborted) overall?.abort(DOWNSTREAM_GONE);
    signal.addEventListener('abort', onDownstreamAbort, ONCE);
  }
  let routeTimer: Timer | undefined;
  let requestCompleteAt: number | undefined;
  const onRequestComplete = (): void => {
    requestCompleteAt = clock.now();
    if (timeoutMs > 0 && overall && !overall.aborted) routeTimer = clock.setTimer(() => overall.abort(ROUTE_TIMEOUT), timeoutMs);
  };
  // No body, or one already in memory: the request is complete now (no promise turn needed).
  if (body.completeNow) onRequestComplete();
  else void body.complete.then(onRequestComplete);
  const cleanup = (): void => {
    routeTimer?.cancel();
    signal?.removeEventListener('abort', onDownstreamAbort);
    retry.release();
  };
  const overallError = (host: Host | undefined): UpstreamError => {
    if (overall?.reason === ROUTE_TIMEOUT) {
      cluster.counters.timeouts++;
      if (host) cluster.outlier?.report(host, { kind: 'timeout' });
      return UpstreamError.timeout();
    }
    return UpstreamError.downstreamGone(signal?.reason);
  };

  try {
    for (let attempt = 1; ; attempt++) {
      if (overall?.aborted) throw overallError(undefined);
      const host = opts.originalDestination && cluster.originalDestination ? cluster.originalDestinationHost(opts.originalDestination.address, opts.originalDestination.port) : cluster.pickHost(hash, tried, previousPriorities?.forRetry());
      if (!host) {
        cluster.counters.noHealthyUpstream++;
        throw UpstreamError.noHealthyUpstream();
      }
      previousPriorities?.onHostAttempted(cluster.priorityOf(host));
      const attemptBody = body.open();
      if (attemptBody === undefined) throw UpstreamError.fromReset('local reset', { retried: attempt > 1 });

      const tryAbort = overall || perTryTimeoutMs > 0 ? new Cancellation() : undefined;
      // Set once this attempt's response is handed over; timers then cut its body instead.
      let handedOver: AttemptResponse | undefined = undefined;
      let perTryTimer: Timer | undefined;
      let ended = false;
      const offOverall = overall
        ? overall.onAbort(() => {
            if (handedOver) handedOver.body.destroy(overall.reason === ROUTE_TIMEOUT ? UpstreamError.timeout() : UpstreamError.downstreamGone());
            else tryAbort?.abort(overall.reason);
          })
        : noop;
      if (perTryTimeoutMs > 0) {
        const armPerTry = (): void => {
          if (ended || (timeoutMs > 0 && perTryTimeoutMs >= timeoutMs) || tryAbort?.aborted) return;
          perTryTimer = clock.setTimer(() => {
            cluster.counters.perTryTimeouts++;
            if (handedOver) handedOver.body.destroy(UpstreamError.timeout());
            else tryAbort?.abort(PER_TRY_TIMEOUT);
          }, perTryTimeoutMs);
        };
        if (requestCompleteAt !== undefined) armPerTry();
        else void body.complete.then(armPerTry);
      }

      host.activeRequests++;
      host.requestsTotal++;
      cluster.counters.attempts++;
      const attemptOptions: AttemptOptions = tryAbort || cluster.outlier ? { cancel: tryAbort, onAttached: cluster.outlier ? () => cluster.outlier?.report(host, { kind: 'connect-success' }) : undefined } : NO_ATTEMPT_OPTIONS;
      let outcome: AttemptResponse | ResetError;
      try {
        outcome = await host.pool(protocol).request(attemptBody === req.body ? req : { method: req.method, path: req.path, headers: req.headers, body: attemptBody }, attemptOptions);
      } catch (err) {
        outcome = err instanceof ResetError ? err : new ResetError('local reset', { cause: err });
      }

      const endAttempt = (): void => {
        ended = true;
        host.activeRequests--;
        perTryTimer?.cancel();
        offOverall();
      };

      if (outcome instanceof ResetError) {
        endAttempt();
        if (overall?.aborted) throw overallError(host);
        const perTryTimedOut = tryAbort?.reason === PER_TRY_TIMEOUT;
        if (perTryTimedOut) cluster.outlier?.report(host, { kind: 'timeout' });
        else if (outcome.reason !== 'overflow') cluster.outlier?.report(host, { kind: 'connect-failed' });
        if (outcome.reason === 'connection failure') cluster.counters.connectFailures++;
        const decision = retry.shouldRetry(retry.wouldRetryReset(perTryTimedOut ? 'local reset' : outcome.reason) && body.replayable, cluster.breakers);
        if (decision === 'yes') {
          cluster.counters.retries++;
          if (retry.ignorePreviousHosts) (tried ??= new Set()).add(host);
          await sleep(clock, retry.nextBackoffMs(), overall);
          continue;
        }
        const extra: ResponseFlag[] = decision === 'limit' ? ['URX'] : decision === 'overflow' ? ['UO'] : [];
        if (perTryTimedOut) throw UpstreamError.timeout(extra);
        throw UpstreamError.fromReset(outcome.reason, { retried: attempt > 1, extra, cause: outcome });
      }

      const res = outcome;
      cluster.outlier?.report(host, { kind: 'http', status: outlierStatus(res.status, res.headers) });
      const decision = retry.shouldRetry(retry.wouldRetryHeaders(res.status, res.headers) && body.replayable, cluster.breakers);
      if (decision === 'yes') {
        cluster.counters.retries++;
        if (retry.ignorePreviousHosts) (tried ??= new Set()).add(host);
        res.onDone(endAttempt);
        // A body already whole needs no reset; reading `body` would only make a stream for it.
        if (res.completeBody === undefined) res.body.destroy();
        await sleep(clock, retry.nextBackoffMs(), overall);
        continue;
      }
      handedOver = res;
      const flags = decision === 'limit' ? ['URX' as const] : decision === 'overflow' ? ['UO' as const] : NO_FLAGS;
      const sent = new SentResponse(res, host.endpoint, attempt, flags, Math.max(0, Math.round(clock.now() - (requestCompleteAt ?? clock.now()))));
      res.onDone(() => {
        endAttempt();
        cleanup();
      });
      return sent;
    }
  } catch (err) {
    cleanup();
    throw err instanceof UpstreamError ? err : UpstreamError.fromReset('local reset', { retried: false, cause: err });
  }
}
