/**
 * Fault injection decisions (VirtualService `fault`), as Istio configures Envoy's fault filter.
 * Percentages are Istio's 0..100 doubles, which istiod sends as per-million (`value * 10000`,
 * truncated); a draw fires when `random % 1e6 < numerator`. Delay and abort are drawn
 * independently (delay first, as the filter does). No percentage means 0: never.
 *
 * An HTTP abort status wins over a gRPC one. A gRPC abort is HTTP 200 carrying grpc-status;
 * Envoy answers a gRPC request to any abort with 200 + grpc-status (mapped from the HTTP status
 * when none was configured) and a plain request with the status and body `fault filter abort`.
 */
import type { FaultInjection } from '../../proxy-config/index.js';

/** gRPC status names Istio accepts (pkg/util/grpc/codes.go) and their codes. */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

/** Body (HTTP) or grpc-message (gRPC) of an injected abort. */
export const FAULT_ABORT_BODY = 'fault filter abort';

/** The code of a gRPC status name (`UNAVAILABLE` -> 14); also accepts a numeric string 0..16. */
export function grpcStatusCode(name: string): number | undefined {
  if (typeof name !== 'string') return undefined;
  if (Object.hasOwn(GRPC_STATUS_CODES, name)) return GRPC_STATUS_CODES[name];
  if (/^\d{1,2}$/.test(name) && Number(name) <= 16) return Number(name);
  return undefined;
}

export interface FaultDecision {
  delayMs?: number;
  /** `grpcStatus` is the grpc-status header value (the numeric code as text). */
  abort?: { status: number; grpcStatus?: string };
}

const PER_MILLION = 1_000_000;

/** One Bernoulli draw at `percent` (0..100), as Envoy's evaluateFractionalPercent over a million. */
function fires(percent: unknown, random: () => number): boolean {
  if (typeof percent !== 'number' || !Number.isFinite(percent)) return false;
  const numerator = Math.trunc(percent * 10000);
  if (numerator <= 0) return false;
  if (numerator >= PER_MILLION) return true;
  const r = Math.min(Math.max(Number(random()) || 0, 0), 1 - Number.EPSILON);
  return Math.floor(r * PER_MILLION) < numerator;
}

function validHttpStatus(status: unknown): status is number {
  // Envoy's FaultAbort.http_status is constrained to [200, 600).
  return typeof status === 'number' && Number.isInteger(status) && status >= 200 && status < 600;
}

/** Decides, for one request, whether to delay it and whether to abort it. */
export function decideFault(fault: FaultInjection | undefined, random: () => number): FaultDecision {
  const decision: FaultDecision = {};
  if (typeof fault !== 'object' || fault === null) return decision;
  const delay = fault.delay;
  if (delay && typeof delay.fixedDelayMs === 'number' && delay.fixedDelayMs > 0 && Number.isFinite(delay.fixedDelayMs)) {
    if (fires(delay.percent, random)) decision.delayMs = delay.fixedDelayMs;
  }
  const abort = fault.abort;
  if (abort && (validHttpStatus(abort.httpStatus) || typeof abort.grpcStatus === 'string')) {
    if (fires(abort.percent, random)) {
      if (validHttpStatus(abort.httpStatus)) {
        decision.abort = { status: abort.httpStatus };
      } else {
        // Istio's validation admits only known names; anything else is reported as UNKNOWN.
        const code = grpcStatusCode(abort.grpcStatus ?? '') ?? 2;
        decision.abort = { status: 200, grpcStatus: String(code) };
      }
    }
  }
  return decision;
}

/** Envoy's Grpc::Utility::httpToGrpcStatus, used when a gRPC request gets an HTTP-status abort. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400: return 13;
    case 401: return 16;
    case 403: return 7;
    case 404: return 12;
    case 429:
    case 502:
    case 503:
    case 504: return 14;
    default: return 2;
  }
}

export interface LocalReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The response Envoy sends for an abort: gRPC requests get a trailers-only 200 with grpc-status. */
export function faultAbortReply(abort: NonNullable<FaultDecision['abort']>, isGrpcRequest: boolean): LocalReply {
  if (isGrpcRequest) {
    const grpcStatus = abort.grpcStatus ?? String(httpToGrpcStatus(abort.status));
    return {
      status: 200,
      headers: { 'content-type': 'application/grpc', 'grpc-status': grpcStatus, 'grpc-message': FAULT_ABORT_BODY },
      body: '',
    };
  }
  return { status: abort.status, headers: { 'content-type': 'text/plain' }, body: FAULT_ABORT_BODY };
}
