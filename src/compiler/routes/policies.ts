/**
 * The per-route policies of an HTTP route (Istio's route.go and route/retry/retry.go): retries
 * with Istio's default when none are given, fault injection with absent percentages meaning 0%,
 * mirrors with absent percentages meaning 100%, CORS and header operations.
 */
import type { HTTPRoute, HTTPRetry, HeaderOperations as VsHeaderOperations, CorsPolicy as VsCors } from '../../resources/istio/virtual-service.js';
import type { CorsPolicy, FaultInjection, HeaderOperations, RetryPolicy } from '../../proxy-config/index.js';
import type { MeshOptions } from '../../registry/index.js';
import { stringMatcher } from './match.js';

const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

/** `retries` absent: the mesh default, else attempts 2 with Istio's retryOn; attempts 0 (or unset in a block) disables. */
export function retryPolicy(retries: HTTPRetry | undefined, mesh: MeshOptions, consistentHash: boolean): RetryPolicy | undefined {
  const d = mesh.defaultHttpRetryPolicy;
  const source = retries
    ?? (d ? { attempts: d.attempts, perTryTimeout: d.perTryTimeoutMs, retryOn: d.retryOn, retryRemoteLocalities: d.retryRemoteLocalities, backoff: d.backoffMs } : { attempts: 2 });
  const attempts = source.attempts ?? 0;
  if (attempts <= 0) return undefined;
  const retryOn: string[] = [];
  const codes: number[] = [];
  for (const part of (source.retryOn || DEFAULT_RETRY_ON).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    if (/^\d+$/.test(item)) codes.push(Number(item));
    else if (!retryOn.includes(item)) retryOn.push(item);
  }
  // Status codes in retryOn need Envoy's retriable-status-codes condition to take effect.
  if (codes.length && !retryOn.includes('retriable-status-codes')) retryOn.push('retriable-status-codes');
  const ignorePrevious = 'retryIgnorePreviousHosts' in source ? source.retryIgnorePreviousHosts : undefined;
  return {
    attempts,
    ...(source.perTryTimeout ? { perTryTimeoutMs: source.perTryTimeout } : {}),
    retryOn,
    retriableStatusCodes: codes,
    ...(source.retryRemoteLocalities ? { retryRemoteLocalities: true } : {}),
    // previous_hosts would defeat consistent hashing, so Istio leaves it out there.
    ignorePreviousHosts: consistentHash ? false : ignorePrevious ?? true,
    backoffBaseMs: source.backoff ?? 25,
  };
}

export function faultInjection(fault: HTTPRoute['fault']): FaultInjection | undefined {
  if (!fault) return undefined;
  const out: FaultInjection = {};
  // A delay without fixedDelay (exponentialDelay is not supported) injects nothing, as Istio drops it.
  if (fault.delay?.fixedDelay !== undefined) out.delay = { fixedDelayMs: fault.delay.fixedDelay, percent: fault.delay.percentage?.value ?? 0 };
  const abort = fault.abort;
  if (abort && (abort.httpStatus !== undefined || abort.grpcStatus !== undefined)) {
    out.abort = {
      ...(abort.grpcStatus !== undefined ? { grpcStatus: abort.grpcStatus } : { httpStatus: abort.httpStatus as number }),
      percent: abort.percentage?.value ?? 0,
    };
  }
  return out.delay || out.abort ? out : undefined;
}

export function headerOperations(ops: VsHeaderOperations | undefined): HeaderOperations | undefined {
  if (!ops) return undefined;
  const out: HeaderOperations = {};
  if (ops.set && Object.keys(ops.set).length) out.set = { ...ops.set };
  if (ops.add && Object.keys(ops.add).length) out.add = { ...ops.add };
  if (ops.remove?.length) out.remove = [...ops.remove];
  return Object.keys(out).length ? out : undefined;
}

export function corsPolicy(cors: VsCors | undefined): CorsPolicy | undefined {
  if (!cors) return undefined;
  return {
    allowOrigins: (cors.allowOrigins ?? []).map((m) => stringMatcher(m)),
    ...(cors.allowMethods?.length ? { allowMethods: [...cors.allowMethods] } : {}),
    ...(cors.allowHeaders?.length ? { allowHeaders: [...cors.allowHeaders] } : {}),
    ...(cors.exposeHeaders?.length ? { exposeHeaders: [...cors.exposeHeaders] } : {}),
    ...(cors.maxAge !== undefined ? { maxAgeSeconds: Math.floor(cors.maxAge / 1000) } : {}),
    ...(cors.allowCredentials !== undefined ? { allowCredentials: cors.allowCredentials } : {}),
    unmatchedPreflights: cors.unmatchedPreflights === 'IGNORE' ? 'IGNORE' : 'FORWARD',
  };
}
