import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreakers } from './circuit-breakers.js';

const limits = { maxConnections: 1, maxPendingRequests: 2, maxRequests: 3, maxRetries: 0, maxRequestsPerConnection: 0 };

test('acquires up to each limit, then counts overflows', () => {
  const cb = new CircuitBreakers(limits);
  assert.equal(cb.tryAcquire('pending'), true);
  assert.equal(cb.tryAcquire('pending'), true);
  assert.equal(cb.tryAcquire('pending'), false);
  assert.equal(cb.tryAcquire('retries'), false);
  assert.deepEqual(cb.overflow, { connections: 0, pending: 1, requests: 0, retries: 1 });
  cb.release('pending');
  assert.equal(cb.tryAcquire('pending'), true);
});

test('nonsense limits mean unlimited rather than a crash or a dead cluster', () => {
  const cb = new CircuitBreakers({ maxConnections: Number.NaN, maxPendingRequests: -1, maxRequests: Infinity, maxRetries: 2 ** 32 - 1, maxRequestsPerConnection: -5 });
  assert.equal(cb.limit('connections'), Infinity);
  assert.equal(cb.limit('pending'), Infinity);
  assert.equal(cb.maxRequestsPerConnection, 0);
});

test('new limits apply to what is open now', () => {
  const cb = new CircuitBreakers(limits);
  cb.acquire('requests');
  cb.acquire('requests');
  cb.update({ ...limits, maxRequests: 2 });
  assert.equal(cb.canCreate('requests'), false);
});
