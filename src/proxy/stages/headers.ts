/**
 * VirtualService `headers.request|response.{set,add,remove}`, applied as Envoy's HeaderParser
 * evaluates one header list: every `remove` first, then `set` (overwrite), then `add` (append
 * another value). Names are case-insensitive; an empty value is skipped (Envoy does not add empty
 * values unless keep_empty_value, which Istio never sets). Pseudo-headers and `host` cannot be
 * changed this way (Envoy rejects them; Istio turns a Host set into an authority rewrite).
 *
 * Header values are literal: Envoy's `%VARIABLE%` substitutions in header values are not expanded.
 */
import type { HeaderOperations } from '../../proxy-config/index.js';

/** Node's header objects fit as they are (a value may be undefined). */
export type HeaderMap = Record<string, string | string[] | undefined>;

function modifiable(lowerName: string): boolean {
  return lowerName !== '' && lowerName.charCodeAt(0) !== 58 && lowerName !== 'host';
}

/** Removes every spelling of the header and returns its values (undefined when absent). */
function takeAll(headers: HeaderMap, lowerName: string): string[] | undefined {
  let values: string[] | undefined;
  for (const key of Object.keys(headers)) {
    if (key !== lowerName && key.toLowerCase() !== lowerName) continue;
    const v = headers[key];
    delete headers[key];
    if (v === undefined) continue;
    values ??= [];
    if (Array.isArray(v)) values.push(...v);
    else values.push(v);
  }
  return values;
}

function entries(record: Record<string, string> | undefined): [string, string][] {
  if (typeof record !== 'object' || record === null) return [];
  return Object.entries(record).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '');
}

/** Applies one operations block to `headers` in place. */
export function applyHeaderOperations(headers: HeaderMap, ops: HeaderOperations | undefined): void {
  if (typeof ops !== 'object' || ops === null || typeof headers !== 'object' || headers === null) return;
  for (const name of Array.isArray(ops.remove) ? ops.remove : []) {
    if (typeof name !== 'string') continue;
    const lower = name.toLowerCase();
    if (modifiable(lower)) takeAll(headers, lower);
  }
  for (const [name, value] of entries(ops.set)) {
    const lower = name.toLowerCase();
    if (!modifiable(lower)) continue;
    takeAll(headers, lower);
    headers[lower] = value;
  }
  for (const [name, value] of entries(ops.add)) {
    const lower = name.toLowerCase();
    if (!modifiable(lower)) continue;
    const values = takeAll(headers, lower) ?? [];
    values.push(value);
    headers[lower] = values.length === 1 ? value : values;
  }
}

/**
 * Route-level and destination-level operations together, in the order the two reach Envoy:
 * - one destination: istiod appends the destination's lists to the route's, so it is one
 *   evaluation (removes, then sets, then adds), and a destination `set` beats a route `set`;
 * - weighted destinations: each has its own list, which Envoy evaluates first and the route's
 *   after (WeightedClusterEntry::finalizeRequestHeaders), so a route `set` wins there.
 */
export function applyRouteHeaderOperations(
  headers: HeaderMap,
  routeOps: HeaderOperations | undefined,
  destinationOps: HeaderOperations | undefined,
  destinationCount: number,
): void {
  if (destinationOps === undefined) {
    applyHeaderOperations(headers, routeOps);
    return;
  }
  if (routeOps === undefined) {
    applyHeaderOperations(headers, destinationOps);
    return;
  }
  if (destinationCount > 1) {
    applyHeaderOperations(headers, destinationOps);
    applyHeaderOperations(headers, routeOps);
    return;
  }
  applyHeaderOperations(headers, {
    remove: [...(routeOps.remove ?? []), ...(destinationOps.remove ?? [])],
    set: mergedRecord(routeOps.set, destinationOps.set),
    add: undefined,
  });
  // Adds after all sets, route's before the destination's, as in the single merged list.
  applyHeaderOperations(headers, { add: routeOps.add });
  applyHeaderOperations(headers, { add: destinationOps.add });
}

function mergedRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> {
  return { ...a, ...b };
}
