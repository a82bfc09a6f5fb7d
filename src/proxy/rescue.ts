/**
 * The one place that turns a failure into what the client sees (Linkerd's ServerRescue): status,
 * body, Envoy response flag and code details, and for gRPC clients the grpc-status to send.
 * Typed errors say it themselves; the upstream side's errors carry flag, status and body in the
 * same shape; anything else is a bug in the proxy: 500, logged by the caller.
 */
import { ProxyError } from './errors.js';

/** Envoy's Grpc::Utility::httpToGrpcStatus, for local replies to gRPC clients. */
export { httpToGrpcStatus } from './stages/fault.js';

export interface LocalReply {
  status: number;
  flag: string;
  body: string;
  details: string;
  grpcStatus: number | undefined;
  /** True when the error was not one the proxy knows: a bug to log. */
  unexpected: boolean;
}

/** Envoy's flag -> RESPONSE_CODE_DETAILS for upstream failures. */
const UPSTREAM_DETAILS: Record<string, string> = {
  UH: 'no_healthy_upstream',
  UF: 'upstream_reset_before_response_started{connection_failure}',
  UC: 'upstream_reset_before_response_started{connection_termination}',
  UR: 'upstream_reset_before_response_started{remote_reset}',
  UO: 'upstream_reset_before_response_started{overflow}',
  UT: 'upstream_response_timeout',
  URX: 'upstream_reset_before_response_started{connection_failure}',
  NC: 'cluster_not_found',
};

export function rescue(err: unknown): LocalReply {
  if (err instanceof ProxyError) {
    return { status: err.status, flag: err.flag, body: err.body, details: err.details, grpcStatus: err.grpcStatus, unexpected: false };
  }
  if (isFlagged(err)) {
    // UpstreamError lists every flag (`UF,URX`); the first one says what happened.
    const flags = Array.isArray(err.flags) && err.flags.every((f) => typeof f === 'string') ? err.flags.join(',') : err.flag;
    return { status: err.status, flag: flags, body: err.body, details: UPSTREAM_DETAILS[err.flag] ?? 'upstream_error', grpcStatus: undefined, unexpected: false };
  }
  return { status: 500, flag: '', body: '', details: 'internal_error', grpcStatus: undefined, unexpected: true };
}

/** The upstream side's UpstreamError (and anything else shaped like it). */
function isFlagged(err: unknown): err is { flag: string; flags?: unknown; status: number; body: string } {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { flag?: unknown; status?: unknown; body?: unknown };
  return typeof e.flag === 'string' && typeof e.status === 'number' && typeof e.body === 'string';
}
