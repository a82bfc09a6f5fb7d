/**
 * Header selection for ext_authz: Istio turns each provider header list into Envoy string
 * matchers, case-insensitive, `x-name` exact, `x-*` prefix, `*-id` suffix. Compiled once per
 * list (cached on the config array, which lives as long as the config does).
 */

export type HeaderSelector = (name: string) => boolean;

const cache = new WeakMap<readonly string[], HeaderSelector>();
const NONE: HeaderSelector = () => false;

export function headerSelector(patterns: readonly string[]): HeaderSelector {
  if (patterns.length === 0) return NONE;
  let selector = cache.get(patterns);
  if (!selector) {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    const suffixes: string[] = [];
    for (const raw of patterns) {
      const p = raw.toLowerCase();
      if (p.startsWith('*')) suffixes.push(p.slice(1));
      else if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
      else exact.add(p);
    }
    selector = (name) => {
      const n = name.toLowerCase();
      return exact.has(n) || prefixes.some((x) => n.startsWith(x)) || suffixes.some((x) => n.endsWith(x));
    };
    cache.set(patterns, selector);
  }
  return selector;
}
