import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseDurationNanos, formatDurationMs, DurationError } from './duration.js';

test('parses the duration forms Istio accepts, exactly', () => {
  const cases: [string, number][] = [
    ['7s', 7000], ['1.5s', 1500], ['100ms', 100], ['1h', 3_600_000], ['1m30s', 90_000],
    ['0.001s', 1], ['250us', 0.25], ['1h30m', 5_400_000], ['0', 0], ['.5s', 500], ['2.25m', 135_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDurationMs(text), ms, text);
});

test('keeps nanosecond precision as integers', () => {
  assert.equal(parseDurationNanos('0.1s') + parseDurationNanos('0.2s'), parseDurationNanos('0.3s'));
  assert.equal(parseDurationNanos('1ns'), 1n);
});

test('rejects what Go rejects, naming the problem', () => {
  for (const text of ['', '7', '1.5', 's', '7sec', '1d', '10 s', 'abc', '-']) {
    assert.throws(() => parseDurationMs(text), DurationError, text);
  }
  assert.throws(() => parseDurationMs('30'), /missing unit/);
});

test('formats milliseconds back to the shortest exact text', () => {
  assert.equal(formatDurationMs(7000), '7s');
  assert.equal(formatDurationMs(1500), '1.5s');
  assert.equal(formatDurationMs(100), '100ms');
  assert.equal(formatDurationMs(3_600_000), '1h');
  assert.equal(formatDurationMs(120_000), '2m');
});
