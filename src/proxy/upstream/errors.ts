/**
 * Upstream failures in Envoy's words: a reset reason for one attempt (what a pool reports), and
 * the UpstreamError a whole send() ends with (status, body and response flags as Envoy's router
 * would write them, so rescue and the access log can use them unchanged).
 */

/** Envoy's Http::StreamResetReason, as resetReasonToString() prints it. */
export type ResetReason =
  | 'connection failure'
  | 'connection termination'
  | 'local reset'
  | 'remote reset'
  | 'remote refused stream reset'
  | 'overflow'
  | 'protocol error';

/** One attempt ended before response headers (or its body was cut). Internal to upstream/. */
export class ResetError extends Error {
  readonly code = 'UPSTREAM_RESET';
  /** Envoy's %UPSTREAM_TRANSPORT_FAILURE_REASON%, e.g. a failed TLS handshake. */
  readonly transportFailure?: string;
  constructor(
    readonly reason: ResetReason,
    options?: { cause?: unknown; transportFailure?: string },
  ) {
    super(`upstream reset: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ResetError';
    if (options?.transportFailure) this.transportFailure = options.transportFailure;
  }
}

export type ResponseFlag = 'UH' | 'UF' | 'UO' | 'UT' | 'URX' | 'UC' | 'UR' | 'NC' | 'LR' | 'UPE' | 'DC';

/** Envoy's streamResetReasonToResponseFlag (source/common/router/router.cc). */
export function resetFlag(reason: ResetReason): ResponseFlag {
  switch (reason) {
    case 'connection failure':
      return 'UF';
    case 'connection termination':
      return 'UC';
    case 'local reset':
      return 'LR';
    case 'overflow':
      return 'UO';
    case 'protocol error':
      return 'UPE';
    case 'remote reset':
    case 'remote refused stream reset':
      return 'UR';
  }
}

export const NO_HEALTHY_UPSTREAM = 'no healthy upstream';
export const UPSTREAM_REQUEST_TIMEOUT = 'upstream request timeout';

/**
 * How a send() failed. `flag` is the main Envoy response flag, `flags` all of them in the order
 * Envoy prints them (`UF,URX`), `status`/`body` the local reply Envoy sends downstream, and
 * `headers` the extra response headers of that reply (`x-envoy-overloaded` on overflow).
 */
export class UpstreamError extends Error {
  readonly code = 'UPSTREAM_ERROR';
  readonly flag: ResponseFlag;
  readonly flags: ResponseFlag[];
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly resetReason?: ResetReason;

  constructor(init: { flags: ResponseFlag[]; status: number; body: string; headers?: Record<string, string>; resetReason?: ResetReason; cause?: unknown }) {
    super(init.body === '' ? `upstream error ${init.flags.join(',')}` : init.body, { cause: init.cause });
    this.name = 'UpstreamError';
    this.flags = init.flags;
    this.flag = init.flags[0] ?? 'UF';
    this.status = init.status;
    this.body = init.body;
    this.headers = init.headers ?? {};
    if (init.resetReason) this.resetReason = init.resetReason;
  }

  static noHealthyUpstream(): UpstreamError {
    return new UpstreamError({ flags: ['UH'], status: 503, body: NO_HEALTHY_UPSTREAM });
  }

  /** Envoy answers cluster_not_found with an empty 503 (Istio's default cluster_not_found_response_code). */
  static clusterNotFound(cluster: string): UpstreamError {
    return new UpstreamError({ flags: ['NC'], status: 503, body: '', cause: new Error(`cluster not found: ${cluster}`) });
  }

  static timeout(extra: ResponseFlag[] = []): UpstreamError {
    return new UpstreamError({ flags: ['UT', ...extra], status: 504, body: UPSTREAM_REQUEST_TIMEOUT });
  }

  /** The downstream went away (signal aborted): no reply is sent, response code 0 as Envoy logs it. */
  static downstreamGone(cause?: unknown): UpstreamError {
    return new UpstreamError({ flags: ['DC'], status: 0, body: '', cause });
  }

  /**
   * Envoy's local reply after a reset before headers (Filter::onUpstreamReset):
   * `upstream connect error or disconnect/reset before headers. [retried and the latest ]reset reason: <reason>`.
   */
  static fromReset(reason: ResetReason, opts: { retried: boolean; extra?: ResponseFlag[]; cause?: unknown }): UpstreamError {
    const transport = opts.cause instanceof ResetError ? opts.cause.transportFailure : undefined;
    const detail = transport ? `${reason}, transport failure reason: ${transport}` : reason;
    const body = `upstream connect error or disconnect/reset before headers. ${opts.retried ? 'retried and the latest ' : ''}reset reason: ${detail}`;
    const headers: Record<string, string> = reason === 'overflow' ? { 'x-envoy-overloaded': 'true' } : {};
    // Envoy answers an upstream protocol error with 502, every other reset with 503.
    const status = reason === 'protocol error' ? 502 : 503;
    return new UpstreamError({ flags: [resetFlag(reason), ...(opts.extra ?? [])], status, body, headers, resetReason: reason, cause: opts.cause });
  }
}
