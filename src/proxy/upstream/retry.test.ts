import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RetryPolicy } from '../../proxy-config/index.js';
import { CircuitBreakers } from './circuit-breakers.js';
import { RetryState } from './retry.js';
import { seededRandom } from './fixtures.js';

const policy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  attempts: 2,
  retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
  retriableStatusCodes: [],
  ignorePreviousHosts: true,
  backoffBaseMs: 25,
  ...overrides,
});
const unlimited = () => new CircuitBreakers({ maxConnections: Infinity, maxPendingRequests: Infinity, maxRequests: Infinity, maxRetries: Infinity, maxRequestsPerConnection: 0 });

test("Istio's default policy: connect failures, refused streams and gRPC unavailable/cancelled, not 503", () => {
  const r = new RetryState(policy(), Math.random);
  assert.equal(r.wouldRetryReset('connection failure'), true);
  assert.equal(r.wouldRetryReset('remote refused stream reset'), true);
  assert.equal(r.wouldRetryReset('connection termination'), false);
  assert.equal(r.wouldRetryReset('local reset'), false);
  assert.equal(r.wouldRetryHeaders(503, {}), false);
  assert.equal(r.wouldRetryHeaders(200, { 'grpc-status': '14' }), true);
  assert.equal(r.wouldRetryHeaders(200, { 'grpc-status': '1' }), true);
  assert.equal(r.wouldRetryHeaders(200, { 'grpc-status': '13' }), false);
});

test('5xx and gateway-error cover responses and any reset except overflow', () => {
  const five = new RetryState(policy({ retryOn: ['5xx'] }), Math.random);
  assert.equal(five.wouldRetryHeaders(500, {}), true);
  assert.equal(five.wouldRetryReset('local reset'), true);
  assert.equal(five.wouldRetryReset('overflow'), false);
  assert.equal(five.wouldRetryHeaders(503, { 'x-envoy-overloaded': 'true' }), false);
  const gw = new RetryState(policy({ retryOn: ['gateway-error'] }), Math.random);
  assert.equal(gw.wouldRetryHeaders(500, {}), false);
  assert.equal(gw.wouldRetryHeaders(504, {}), true);
  assert.equal(gw.wouldRetryReset('connection termination'), true);
});

test('retriable-4xx is 409 only; listed codes need retriable-status-codes (numbers in retryOn imply it)', () => {
  assert.equal(new RetryState(policy({ retryOn: ['retriable-4xx'] }), Math.random).wouldRetryHeaders(409, {}), true);
  assert.equal(new RetryState(policy({ retryOn: ['retriable-4xx'] }), Math.random).wouldRetryHeaders(404, {}), false);
  assert.equal(new RetryState(policy({ retryOn: ['connect-failure'], retriableStatusCodes: [503] }), Math.random).wouldRetryHeaders(503, {}), false);
  assert.equal(new RetryState(policy({ retryOn: ['retriable-status-codes'], retriableStatusCodes: [503] }), Math.random).wouldRetryHeaders(503, {}), true);
  assert.equal(new RetryState(policy({ retryOn: ['429'] }), Math.random).wouldRetryHeaders(429, {}), true);
});

test('attempts bound the retries; 0 or no conditions disable them', () => {
  const cb = unlimited();
  const r = new RetryState(policy({ attempts: 2 }), Math.random);
  assert.deepEqual([r.shouldRetry(true, cb), r.shouldRetry(true, cb), r.shouldRetry(true, cb)], ['yes', 'yes', 'limit']);
  assert.equal(new RetryState(policy({ attempts: 0 }), Math.random).enabled, false);
  assert.equal(new RetryState(policy({ retryOn: [] }), Math.random).enabled, false);
  assert.equal(new RetryState(undefined, Math.random).enabled, false);
});

test('maxRetries is a cluster-wide slot held until the retried attempt ends', () => {
  const cb = new CircuitBreakers({ maxConnections: 9, maxPendingRequests: 9, maxRequests: 9, maxRetries: 1, maxRequestsPerConnection: 0 });
  const a = new RetryState(policy(), Math.random);
  const b = new RetryState(policy(), Math.random);
  assert.equal(a.shouldRetry(true, cb), 'yes');
  assert.equal(b.shouldRetry(true, cb), 'overflow');
  assert.equal(cb.overflow.retries, 1);
  a.release();
  assert.equal(b.shouldRetry(true, cb), 'yes');
});

test('backoff is fully jittered exponential from 25ms, capped at 250ms', () => {
  const random = seededRandom(11);
  const caps = [25, 50, 100, 200, 250, 250];
  const max = caps.map(() => 0);
  for (let n = 0; n < 2000; n++) {
    const r = new RetryState(policy(), random);
    caps.forEach((cap, i) => {
      const ms = r.nextBackoffMs();
      assert.ok(ms >= 0 && ms < cap, `try ${i}: ${ms}ms`);
      max[i] = Math.max(max[i] ?? 0, ms);
    });
  }
  caps.forEach((cap, i) => assert.ok((max[i] ?? 0) >= cap * 0.9, `try ${i} never came near ${cap}ms`));
  assert.equal(new RetryState(policy(), () => 0).nextBackoffMs(), 0);
});
