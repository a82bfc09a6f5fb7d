/**
 * Prometheus text exposition format 0.0.4, written by hand. prom-client would work, but every
 * sidecar would carry its registry, default collectors and per-observation label hashing; here
 * a series' label text is built once, when the series is first seen, and a scrape is string
 * concatenation over counters the recorder already holds.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Envoy's default histogram buckets (source/common/stats/histogram_impl.cc), which Istio keeps. */
export const DEFAULT_BUCKETS: readonly number[] = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

/** A label value escaped for the exposition format: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** HELP text escapes backslash and newline only. */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `a="x",b="y"` (no braces), for names and values in the same order. */
export function labelText(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) out += `${i > 0 ? ',' : ''}${names[i] ?? ''}="${escapeLabelValue(values[i] ?? '')}"`;
  return out;
}

/** A bucket bound as Envoy prints it (C's %g: `0.5`, `300000`, `1.8e+06`). */
export function formatBound(n: number): string {
  if (n !== 0 && (Math.abs(n) >= 1e6 || Math.abs(n) < 1e-4)) {
    const [mantissa = '', exp = '0'] = n.toExponential().split('e');
    const e = Number(exp);
    return `${Number(Number(mantissa).toPrecision(6))}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return String(Number(n.toPrecision(6)));
}

/** A sample value: integers as is, +Inf / -Inf / NaN spelled as Prometheus reads them. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

export function familyHeader(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** The `le` suffixes for these buckets, with the leading comma, ready to append to a series' labels. */
export function bucketSuffixes(buckets: readonly number[]): string[] {
  return [...buckets.map((b) => `,le="${formatBound(b)}"`), ',le="+Inf"'];
}

/** One histogram series: per-bucket (not cumulative) counts, the last one past every bound. */
export class HistogramValues {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(v: number): void {
    const b = this.buckets;
    let i = 0;
    while (i < b.length && v > (b[i] ?? 0)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += v;
    this.count++;
  }

  /** The `_bucket`, `_sum` and `_count` lines for one series with these labels (no braces). */
  write(name: string, labels: string, suffixes: readonly string[]): string {
    let out = '';
    let cumulative = 0;
    for (let i = 0; i < this.counts.length; i++) {
      cumulative += this.counts[i] ?? 0;
      const suffix = suffixes[i] ?? '';
      out += `${name}_bucket{${labels === '' ? suffix.slice(1) : labels + suffix}} ${cumulative}\n`;
    }
    const braces = labels === '' ? '' : `{${labels}}`;
    return `${out}${name}_sum${braces} ${formatValue(this.sum)}\n${name}_count${braces} ${this.count}\n`;
  }
}
