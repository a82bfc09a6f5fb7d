/**
 * A one-shot cancellation for the request path. AbortController is an EventTarget and costs
 * several percent of a proxied request when made twice per request (measured with --cpu-prof);
 * this does the one thing needed: run listeners once, with a reason.
 */
const noop = (): void => {};

export class Cancellation {
  aborted = false;
  reason: unknown;
  #listeners: (() => void)[] | undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const fn of listeners) fn();
  }

  /** Runs `fn` on abort (not if already aborted); returns the unsubscribe. */
  onAbort(fn: () => void): () => void {
    if (this.aborted) return noop;
    (this.#listeners ??= []).push(fn);
    return () => {
      const i = this.#listeners?.indexOf(fn) ?? -1;
      if (i >= 0) this.#listeners?.splice(i, 1);
    };
  }
}
