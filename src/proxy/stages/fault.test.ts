import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultInjection } from '../../proxy-config/index.js';
import { decideFault, faultAbortReply, FAULT_ABORT_BODY, GRPC_STATUS_CODES, grpcStatusCode, httpToGrpcStatus } from './fault.js';

/** Returns the given draws in order and records how many were taken. */
function draws(...values: number[]): { random: () => number; taken: () => number } {
  let i = 0;
  return { random: () => values[i++] ?? 0.999999, taken: () => i };
}

test('percentages as Istio sends them: per-million, delay then abort, independent', () => {
  const both: FaultInjection = { delay: { fixedDelayMs: 5000, percent: 10 }, abort: { httpStatus: 503, percent: 50 } };
  const cases: [string, FaultInjection | undefined, number[], object, number][] = [
    ['no fault', undefined, [], {}, 0],
    ['delay fires below the percentage', both, [0.05, 0.9], { delayMs: 5000 }, 2],
    ['delay misses at the percentage', both, [0.1, 0.9], {}, 2],
    ['abort alone', both, [0.5, 0.2], { abort: { status: 503 } }, 2],
    ['both', both, [0, 0], { delayMs: 5000, abort: { status: 503 } }, 2],
    ['100% needs no draw', { abort: { httpStatus: 500, percent: 100 } }, [], { abort: { status: 500 } }, 0],
    ['no percentage means never', { delay: { fixedDelayMs: 100, percent: 0 }, abort: { httpStatus: 500, percent: 0 } }, [], {}, 0],
    ['0.0001% is one in a million', { abort: { httpStatus: 500, percent: 0.0001 } }, [0.0000009], { abort: { status: 500 } }, 1],
    ['0.0001%: the second in a million misses', { abort: { httpStatus: 500, percent: 0.0001 } }, [0.000001], {}, 1],
    ['0.1% truncates like istiod (1000 per million)', { abort: { httpStatus: 500, percent: 0.1 } }, [0.000999], { abort: { status: 500 } }, 1],
    ['zero delay is no delay', { delay: { fixedDelayMs: 0, percent: 100 } }, [], {}, 0],
    ['http status wins over grpc', { abort: { httpStatus: 429, grpcStatus: 'UNAVAILABLE', percent: 100 } }, [], { abort: { status: 429 } }, 0],
    ['grpc abort is 200 with grpc-status', { abort: { grpcStatus: 'UNAVAILABLE', percent: 100 } }, [], { abort: { status: 200, grpcStatus: '14' } }, 0],
    ['out-of-range http status is ignored', { abort: { httpStatus: 99, percent: 100 } }, [], {}, 0],
    ['percent above 100 is always', { abort: { httpStatus: 503, percent: 250 } }, [], { abort: { status: 503 } }, 0],
  ];
  for (const [name, fault, values, expected, taken] of cases) {
    const d = draws(...values);
    assert.deepEqual(decideFault(fault, d.random), expected, name);
    assert.equal(d.taken(), taken, `${name}: draws`);
  }
});

test('delay and abort rates converge to their percentages independently', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const fault: FaultInjection = { delay: { fixedDelayMs: 1, percent: 30 }, abort: { httpStatus: 500, percent: 20 } };
  let delayed = 0, aborted = 0, both = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const d = decideFault(fault, random);
    if (d.delayMs) delayed++;
    if (d.abort) aborted++;
    if (d.delayMs && d.abort) both++;
  }
  assert.ok(Math.abs(delayed / n - 0.3) < 0.01);
  assert.ok(Math.abs(aborted / n - 0.2) < 0.01);
  assert.ok(Math.abs(both / n - 0.06) < 0.01);
});

test('gRPC status names map to codes', () => {
  assert.equal(grpcStatusCode('OK'), 0);
  assert.equal(grpcStatusCode('UNAVAILABLE'), 14);
  assert.equal(grpcStatusCode('UNAUTHENTICATED'), 16);
  assert.equal(grpcStatusCode('14'), 14);
  assert.equal(grpcStatusCode('unavailable'), undefined);
  assert.equal(grpcStatusCode('toString'), undefined);
  assert.equal(Object.keys(GRPC_STATUS_CODES).length, 17);
  assert.deepEqual(decideFault({ abort: { grpcStatus: 'NOPE', percent: 100 } }, Math.random), { abort: { status: 200, grpcStatus: '2' } });
});

test('the reply Envoy sends for an abort', () => {
  assert.deepEqual(faultAbortReply({ status: 503 }, false), { status: 503, headers: { 'content-type': 'text/plain' }, body: FAULT_ABORT_BODY });
  assert.deepEqual(faultAbortReply({ status: 200, grpcStatus: '14' }, true).headers, { 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'fault filter abort' });
  assert.equal(faultAbortReply({ status: 200, grpcStatus: '14' }, false).status, 200);
  assert.equal(faultAbortReply({ status: 503 }, true).headers['grpc-status'], '14');
  assert.equal(faultAbortReply({ status: 503 }, true).status, 200);
  const mapped: [number, number][] = [[400, 13], [401, 16], [403, 7], [404, 12], [429, 14], [502, 14], [503, 14], [504, 14], [500, 2]];
  for (const [http, grpc] of mapped) assert.equal(httpToGrpcStatus(http), grpc, String(http));
});
