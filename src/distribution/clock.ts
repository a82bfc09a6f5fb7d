/**
 * Time as an injected dependency, so tests drive debounce windows and reconnect backoff by
 * advancing a fake clock instead of sleeping (STYLE.md: Linkerd's timeout tests run on paused time).
 * Client-safe: imports nothing.
 */

/** Cancels a timer; calling it after the timer fired is harmless. */
export type CancelTimer = () => void;

/** Runs `fn` once after `ms` milliseconds. */
export type SetTimer = (fn: () => void, ms: number) => CancelTimer;

/** Milliseconds since the epoch (wall clock, so `connectedAt` is meaningful to a reader). */
export type Now = () => number;

export const realNow: Now = () => Date.now();

export const realSetTimer: SetTimer = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};
