/**
 * Simple counters and gauges for `/stats`, named after Envoy's (`downstream_rq_total`,
 * `downstream_rq_5xx`, `downstream_cx_active`), so operators find what they know. Istio's
 * Prometheus metrics are telemetry's job, built from the request events instead.
 */
export class Stats {
  readonly #counters = new Map<string, number>();
  readonly #gauges = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + by);
  }

  gauge(name: string, delta: number): void {
    this.#gauges.set(name, (this.#gauges.get(name) ?? 0) + delta);
  }

  get(name: string): number {
    return this.#counters.get(name) ?? this.#gauges.get(name) ?? 0;
  }

  /** Envoy's text format: `name: value`, sorted by name. */
  text(): string {
    const all = [...this.#counters, ...this.#gauges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return all.map(([k, v]) => `${k}: ${v}\n`).join('');
  }

  json(): { stats: { name: string; value: number }[] } {
    const all = [...this.#counters, ...this.#gauges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { stats: all.map(([name, value]) => ({ name, value })) };
  }
}
