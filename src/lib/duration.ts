/**
 * Durations as Istio accepts them: Go's time.ParseDuration syntax (`7s`, `1.5s`, `100ms`, `1h30m`,
 * `250us`), which is what protobuf Duration fields take in Istio's YAML. The result is exact
 * integer nanoseconds (a bigint), so `0.1s` + `0.2s` arithmetic never drifts.
 */
const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const PART = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

export class DurationError extends Error {
  readonly code = 'WEFT_BAD_DURATION';
}

/** Parses a duration; throws DurationError naming what is wrong. */
export function parseDurationNanos(text: string): bigint {
  let rest = text.trim();
  if (rest === '') throw new DurationError('empty duration');
  let negative = false;
  if (rest[0] === '-' || rest[0] === '+') {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw new DurationError(`invalid duration "${text}"`);
  let total = 0n;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (!m) {
      const hint = /^\d+(\.\d+)?$/.test(rest) ? ' (missing unit: use s, ms, m or h)' : '';
      throw new DurationError(`invalid duration "${text}"${hint}`);
    }
    const [whole, intPart = '', fracPart = '', unit = 's'] = m;
    if (intPart === '' && fracPart === '') throw new DurationError(`invalid duration "${text}"`);
    const scale = UNIT_NANOS[unit] ?? 1n;
    const digits = fracPart.slice(0, 18);
    const frac = digits === '' ? 0n : (BigInt(digits) * scale) / 10n ** BigInt(digits.length);
    total += BigInt(intPart || '0') * scale + frac;
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** Parses a duration to milliseconds (may be fractional below 1 ms). */
export function parseDurationMs(text: string): number {
  return Number(parseDurationNanos(text)) / 1e6;
}

/** Formats milliseconds back to the shortest exact Go-style duration (`1.5s`, `100ms`, `1h`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
