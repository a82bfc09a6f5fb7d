/**
 * Host names as Istio treats them in VirtualService, DestinationRule, Gateway and ServiceEntry:
 * short names expand in the namespace of the resource that wrote them, `*` and `*.suffix`
 * wildcards match by suffix, and comparisons ignore case.
 */
export const DEFAULT_DOMAIN_SUFFIX = 'cluster.local';

/**
 * Istio's ResolveShortnameToFQDN: a name without dots is `<name>.<namespace>.svc.<suffix>`;
 * anything with a dot (including `reviews.default`) or a wildcard is taken as written.
 */
export function resolveHost(host: string, namespace: string, domainSuffix = DEFAULT_DOMAIN_SUFFIX): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('*') || lower.includes('.') || lower.includes(':')) return lower;
  return `${lower}.${namespace}.svc.${domainSuffix}`;
}

export function isWildcard(host: string): boolean {
  return host.startsWith('*');
}

/** True when `pattern` (possibly `*` or `*.suffix`) covers the concrete or wildcard host `host`. */
export function hostCovers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === '*') return true;
  if (p === h) return true;
  if (p.startsWith('*.')) {
    const suffix = p.slice(1); // ".example.com"
    if (h.startsWith('*.')) return h.slice(1).endsWith(suffix);
    return h.endsWith(suffix) && h.length > suffix.length;
  }
  return false;
}

/** True when the two host sets can name the same request host (either covers the other). */
export function hostsIntersect(a: string, b: string): boolean {
  return hostCovers(a, b) || hostCovers(b, a);
}

/** `ns/host` as written in Gateway servers and Sidecar egress; no namespace means `*`. */
export function splitNamespacedHost(value: string): { namespace: string; host: string } {
  const slash = value.indexOf('/');
  if (slash < 0) return { namespace: '*', host: value };
  return { namespace: value.slice(0, slash), host: value.slice(slash + 1) };
}
