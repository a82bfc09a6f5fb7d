/**
 * Exponential reconnect backoff with jitter. The jitter matters when a control plane replica
 * restarts: thousands of proxies lose their stream at the same instant, and without it they would
 * all reconnect in lock-step and hit the surviving replica as one wave.
 * Client-safe: imports nothing.
 */
export interface BackoffOptions {
  /** Delay ceiling before jitter for the first retry. */
  initialMs: number;
  /** The ceiling never grows past this. */
  maxMs: number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${options.initialMs} and ${options.maxMs}`);
    }
    this.#options = options;
    this.#random = random;
  }

  /**
   * The next delay: the ceiling doubles per attempt up to maxMs, and the delay is drawn from the
   * upper half of it ("equal jitter"), so it is never near zero yet still spreads clients out.
   */
  next(): number {
    const ceiling = Math.min(this.#options.maxMs, this.#options.initialMs * 2 ** this.#attempt);
    if (ceiling < this.#options.maxMs) this.#attempt++;
    return Math.round(ceiling / 2 + this.#random() * (ceiling / 2));
  }

  /** After a successful connection the next failure starts from initialMs again. */
  reset(): void {
    this.#attempt = 0;
  }
}
