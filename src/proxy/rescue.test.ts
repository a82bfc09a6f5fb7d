import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rescue, httpToGrpcStatus } from './rescue.js';
import { ClusterNotFoundError, DownstreamGoneError, FaultAbortError, NoRouteError, PathRejectedError } from './errors.js';
import { UpstreamError } from './upstream/index.js';

test('every typed failure becomes Envoy\'s status, body, flag and details', () => {
  const cases: [unknown, number, string, string, string][] = [
    [new NoRouteError(), 404, 'NR', '', 'route_not_found'],
    [new ClusterNotFoundError('outbound|80|v9|r'), 503, 'NC', '', 'cluster_not_found'],
    [new FaultAbortError(503), 503, 'FI', 'fault filter abort', 'fault_filter_abort'],
    [new PathRejectedError(), 400, '', '', 'path_normalization_failed'],
    [new DownstreamGoneError(), 0, 'DC', '', 'downstream_remote_disconnect'],
    [UpstreamError.noHealthyUpstream(), 503, 'UH', 'no healthy upstream', 'no_healthy_upstream'],
    [UpstreamError.timeout(), 504, 'UT', 'upstream request timeout', 'upstream_response_timeout'],
    [UpstreamError.fromReset('connection failure', { retried: true, extra: ['URX'] }), 503, 'UF,URX', 'upstream connect error or disconnect/reset before headers. retried and the latest reset reason: connection failure', 'upstream_reset_before_response_started{connection_failure}'],
  ];
  for (const [err, status, flag, body, details] of cases) {
    const r = rescue(err);
    assert.deepEqual([r.status, r.flag, r.body, r.details, r.unexpected], [status, flag, body, details, false], String(err));
  }
});

test('anything else is a bug: 500, marked unexpected so it is logged', () => {
  for (const err of [new TypeError('x is undefined'), 'a string', undefined]) {
    const r = rescue(err);
    assert.equal(r.status, 500);
    assert.equal(r.unexpected, true);
  }
});

test('gRPC clients get grpc-status from the HTTP status, as Envoy maps it', () => {
  assert.deepEqual([400, 401, 403, 404, 429, 502, 503, 504, 500].map(httpToGrpcStatus), [13, 16, 7, 12, 14, 14, 14, 14, 2]);
});
