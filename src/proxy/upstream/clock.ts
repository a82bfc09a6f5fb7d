/**
 * Time and chance, injectable so that tests of ejection, backoff and timeouts run on a fake clock
 * and fixed randomness instead of sleeping.
 */

export interface Timer {
  cancel(): void;
}

/** Runs `fn` once after `ms`; `unref` timers do not keep the process alive (background sweeps). */
export type SetTimer = (fn: () => void, ms: number, opts?: { unref?: boolean }) => Timer;

export interface Clock {
  /** Monotonic milliseconds. */
  now: () => number;
  /** Uniform in [0, 1), like Math.random. */
  random: () => number;
  setTimer: SetTimer;
}

export const realSetTimer: SetTimer = (fn, ms, opts) => {
  const handle = setTimeout(fn, Math.max(0, ms));
  if (opts?.unref) handle.unref();
  return { cancel: () => clearTimeout(handle) };
};

export const realClock: Clock = {
  now: () => performance.now(),
  random: Math.random,
  setTimer: realSetTimer,
};

/** A random unsigned 32-bit integer, the `random_.random() % n` idiom of Envoy's balancers. */
export function randomUint32(random: () => number): number {
  return Math.floor(random() * 0x1_0000_0000) >>> 0;
}

/** A random unsigned 64-bit integer, for hashing balancers asked to pick without a hash key. */
export function randomUint64(random: () => number): bigint {
  return (BigInt(randomUint32(random)) << 32n) | BigInt(randomUint32(random));
}
