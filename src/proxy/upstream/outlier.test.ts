import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutlierDetection } from '../../proxy-config/index.js';
import { HostOutlierState, OutlierDetector } from './outlier.js';
import { ManualClock, outlierDetection } from './fixtures.js';

const config = outlierDetection;

function setup(overrides: Partial<OutlierDetection> = {}, n = 3) {
  const clock = new ManualClock();
  const hosts = Array.from({ length: n }, (_, i) => ({ name: `h${i}`, outlier: new HostOutlierState() }));
  const changes: string[] = [];
  const detector = new OutlierDetector(config(overrides), clock, () => hosts, (h) => changes.push(`${h.name}:${h.outlier.ejected ? 'out' : 'in'}`));
  return { clock, hosts, changes, detector, h0: hosts[0] as (typeof hosts)[number] };
}

test('five consecutive 5xx eject the host at once; a success in between resets the count', () => {
  const { detector, h0, changes } = setup();
  for (let i = 0; i < 4; i++) detector.report(h0, { kind: 'http', status: 503 });
  detector.report(h0, { kind: 'http', status: 200 });
  for (let i = 0; i < 4; i++) detector.report(h0, { kind: 'http', status: 500 });
  assert.equal(h0.outlier.ejected, false);
  detector.report(h0, { kind: 'http', status: 500 });
  assert.equal(h0.outlier.ejected, true);
  assert.deepEqual(changes, ['h0:out']);
  assert.equal(detector.stats.ejectionsEnforcedTotal, 1);
  detector.stop();
});

test('an ejected host returns at the first interval tick after baseEjectionTime', () => {
  const { detector, h0, clock } = setup();
  for (let i = 0; i < 5; i++) detector.report(h0, { kind: 'http', status: 503 });
  assert.equal(detector.ejectedUntil(h0), 30_000);
  clock.advance(29_999);
  assert.equal(h0.outlier.ejected, true);
  clock.advance(1);
  assert.equal(h0.outlier.ejected, false);
  detector.stop();
});

test('ejection time grows with repeated ejections and shrinks after healthy intervals', () => {
  const { detector, h0, clock } = setup();
  const eject = () => {
    for (let i = 0; i < 5; i++) detector.report(h0, { kind: 'http', status: 503 });
  };
  eject();
  clock.advance(30_000);
  eject();
  assert.equal(detector.ejectedUntil(h0), 30_000 + 60_000);
  clock.advance(60_000);
  assert.equal(h0.outlier.ejected, false);
  assert.equal(h0.outlier.backoff, 2);
  clock.advance(20_000);
  assert.equal(h0.outlier.backoff, 0);
  eject();
  assert.equal(detector.ejectedUntil(h0), clock.now() + 30_000);
  detector.stop();
});

test('maxEjectionPercent counts all hosts: with 3 hosts, 10% ejects none and 50% only one', () => {
  const few = setup({ maxEjectionPercent: 10 });
  for (let i = 0; i < 5; i++) few.detector.report(few.h0, { kind: 'http', status: 503 });
  assert.equal(few.h0.outlier.ejected, false);
  assert.equal(few.detector.stats.ejectionsOverflow, 1);
  few.detector.stop();

  const half = setup({ maxEjectionPercent: 50 });
  for (const h of half.hosts) for (let i = 0; i < 5; i++) half.detector.report(h, { kind: 'http', status: 503 });
  assert.deepEqual(half.hosts.map((h) => h.outlier.ejected), [true, false, false]);
  half.detector.stop();
});

test('consecutive gateway errors count only 502/503/504', () => {
  const { detector, h0 } = setup({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 });
  detector.report(h0, { kind: 'http', status: 502 });
  detector.report(h0, { kind: 'http', status: 500 });
  detector.report(h0, { kind: 'http', status: 503 });
  detector.report(h0, { kind: 'http', status: 504 });
  assert.equal(h0.outlier.ejected, false);
  detector.report(h0, { kind: 'http', status: 502 });
  assert.equal(h0.outlier.ejected, true);
  assert.equal(detector.stats.ejectionsDetected.consecutiveGateway, 1);
  detector.stop();
});

test('without the split, connect failures and timeouts count as 503 and 504', () => {
  const { detector, h0 } = setup({ consecutive5xxErrors: 3 });
  detector.report(h0, { kind: 'connect-failed' });
  detector.report(h0, { kind: 'connect-success' });
  detector.report(h0, { kind: 'timeout' });
  detector.report(h0, { kind: 'connect-failed' });
  assert.equal(h0.outlier.ejected, true);
  detector.stop();
});

test('with the split, local origin failures have their own counter', () => {
  const { detector, h0 } = setup({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2, consecutive5xxErrors: 0 });
  detector.report(h0, { kind: 'connect-failed' });
  detector.report(h0, { kind: 'connect-success' });
  detector.report(h0, { kind: 'connect-failed' });
  assert.equal(h0.outlier.ejected, false);
  detector.report(h0, { kind: 'timeout' });
  assert.equal(h0.outlier.ejected, true);
  assert.equal(detector.stats.ejectionsDetected.consecutiveLocal, 1);
  detector.stop();
});

test('stopping detection returns ejected hosts', () => {
  const { detector, h0 } = setup();
  for (let i = 0; i < 5; i++) detector.report(h0, { kind: 'http', status: 503 });
  detector.stop();
  assert.equal(h0.outlier.ejected, false);
});
