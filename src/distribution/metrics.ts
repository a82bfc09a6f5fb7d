/**
 * A minimal in-memory metrics registry: counters, gauges and histograms rendered in Prometheus'
 * text format, which the control plane serves on 15014 as istiod does. Plain objects and no
 * dependency, because three metric kinds without labels are all the push server needs; labels
 * can come when a second user needs them.
 */

interface Metric {
  readonly name: string;
  readonly help: string;
  render(): string;
}

export class Counter implements Metric {
  #value = 0;
  constructor(readonly name: string, readonly help: string) {}
  inc(by = 1): void {
    this.#value += by;
  }
  get value(): number {
    return this.#value;
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n${this.name} ${this.#value}\n`;
  }
}

export class Gauge implements Metric {
  #value = 0;
  constructor(readonly name: string, readonly help: string) {}
  set(value: number): void {
    this.#value = value;
  }
  inc(by = 1): void {
    this.#value += by;
  }
  dec(by = 1): void {
    this.#value -= by;
  }
  get value(): number {
    return this.#value;
  }
  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${this.name} ${this.#value}\n`;
  }
}

export class Histogram implements Metric {
  readonly #bounds: readonly number[];
  /** Per-bucket counts (not cumulative); the last slot is +Inf. */
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  constructor(readonly name: string, readonly help: string, bounds: readonly number[]) {
    this.#bounds = [...bounds].sort((a, b) => a - b);
    this.#counts = new Array<number>(this.#bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = this.#bounds.findIndex((bound) => value <= bound);
    if (i < 0) i = this.#bounds.length;
    this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    let cumulative = 0;
    this.#bounds.forEach((bound, i) => {
      cumulative += this.#counts[i] ?? 0;
      out += `${this.name}_bucket{le="${bound}"} ${cumulative}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.#count}\n${this.name}_sum ${this.#sum}\n${this.name}_count ${this.#count}\n`;
    return out;
  }
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, bounds));
  }

  /** Prometheus text exposition format 0.0.4, metrics in registration order. */
  render(): string {
    return [...this.#metrics.values()].map((m) => m.render()).join('');
  }

  #add<M extends Metric>(metric: M): M {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric.name)) throw new RangeError(`invalid metric name ${metric.name}`);
    if (this.#metrics.has(metric.name)) throw new RangeError(`metric ${metric.name} is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}
