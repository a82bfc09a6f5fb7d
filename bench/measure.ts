/** Runs `fn` repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
export function measure(fn: () => void, ms = 1500): number {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    ops++;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}
