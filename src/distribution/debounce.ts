/**
 * Istio's push debounce (`debounce` in pilot/pkg/xds/discovery.go): a burst of config changes
 * becomes one push. Changes are merged until none has arrived for `quietMs` (PILOT_DEBOUNCE_AFTER,
 * 100 ms) or the first of them is `maxMs` old (PILOT_DEBOUNCE_MAX, 10 s), so a steady trickle of
 * changes cannot postpone a push forever.
 */
import type { CancelTimer, Now, SetTimer } from './clock.js';

export interface DebounceOptions<T> {
  quietMs: number;
  maxMs: number;
  now: Now;
  setTimer: SetTimer;
  merge: (pending: T, next: T) => T;
  /** Receives the merged changes and when the first of them arrived (for push latency). */
  fire: (merged: T, firstAt: number) => void;
}

export class Debouncer<T> {
  readonly #options: DebounceOptions<T>;
  #pending: { value: T; firstAt: number; lastAt: number } | undefined;
  #cancel: CancelTimer | undefined;

  constructor(options: DebounceOptions<T>) {
    this.#options = options;
  }

  add(value: T): void {
    const now = this.#options.now();
    if (this.#pending) {
      this.#pending.value = this.#options.merge(this.#pending.value, value);
      this.#pending.lastAt = now;
    } else {
      this.#pending = { value, firstAt: now, lastAt: now };
    }
    this.#schedule(now);
  }

  /** Drops pending changes (server shutdown). */
  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#pending = undefined;
  }

  #schedule(now: number): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#cancel?.();
    const quietIn = pending.lastAt + this.#options.quietMs - now;
    const maxIn = pending.firstAt + this.#options.maxMs - now;
    const wait = Math.min(quietIn, maxIn);
    if (wait <= 0) {
      this.#cancel = undefined;
      this.#pending = undefined;
      this.#options.fire(pending.value, pending.firstAt);
      return;
    }
    this.#cancel = this.#setTimer(wait);
  }

  #setTimer(wait: number): CancelTimer {
    return this.#options.setTimer(() => {
      this.#cancel = undefined;
      this.#schedule(this.#options.now());
    }, wait);
  }
}
