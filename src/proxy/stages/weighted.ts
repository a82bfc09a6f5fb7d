/**
 * Weighted choice among a route's destinations: each gets weight/sum(weights), as Envoy's
 * weighted_clusters. A single destination gets everything whatever its weight; with several, a
 * weight of 0 is never picked (Istio drops it). Randomness is injected so tests are exact.
 */
function usableWeight(w: unknown): number {
  return typeof w === 'number' && Number.isFinite(w) && w > 0 ? w : 0;
}

/**
 * Picks one item with probability proportional to its weight. `random` returns [0, 1) like
 * Math.random. If no item has a positive weight (a config Envoy would reject), all are equally likely.
 */
export function pickWeighted<T extends { weight: number }>(items: T[], random: () => number): T | undefined {
  if (!Array.isArray(items) || items.length === 0) return undefined;
  if (items.length === 1) return items[0];
  let total = 0;
  for (const item of items) total += usableWeight(item?.weight);
  const r = Math.min(Math.max(Number(random()) || 0, 0), 1);
  if (total === 0) return items[Math.min(Math.floor(r * items.length), items.length - 1)];
  const target = r * total;
  let cumulative = 0;
  let last: T | undefined;
  for (const item of items) {
    const w = usableWeight(item?.weight);
    if (w === 0) continue;
    cumulative += w;
    last = item;
    if (target < cumulative) return item;
  }
  // Only reached when rounding puts target at the very top (random() returned 1 or close to it).
  return last;
}
