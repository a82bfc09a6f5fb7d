/**
 * The Host header values a sidecar's virtual host answers for a service (Istio's
 * generateVirtualHostDomains): the FQDN, `name.ns.svc`, `name.ns`, the bare name for clients in
 * the service's namespace, the VIP, each also with `:port`.
 */
import type { Service } from '../../registry/index.js';

export function serviceDomains(service: Service, port: number, clientNamespace: string): string[] {
  const names = [service.hostname];
  if (service.source.kind === 'Service') {
    const base = `${service.name}.${service.namespace}`;
    names.push(`${base}.svc`, base);
    if (service.namespace === clientNamespace) names.push(service.name);
  }
  if (service.vip) names.push(service.vip);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** Istio's dedupeDomains: a domain already served by an earlier virtual host is dropped from later ones. */
export function dedupeDomains<T extends { domains: string[] }>(hosts: T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const h of hosts) {
    const domains = h.domains.filter((d) => {
      const key = d.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    // An untouched host is kept as is: it may be shared between proxies (shared-hosts.ts).
    if (domains.length === h.domains.length) out.push(h);
    else if (domains.length > 0) out.push({ ...h, domains });
  }
  return out;
}
