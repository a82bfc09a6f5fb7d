/**
 * Deterministic virtual IPs. A Kubernetes Service without a written clusterIP gets one from the
 * service CIDR 10.96.0.0/12, derived from a hash of `namespace/name`, so the same mesh always
 * gets the same addresses (goldens stay stable, the runtime's DNS can answer without state).
 * ServiceEntry hosts without addresses get one from 240.240.0.0/16, as Istio's DNS proxy
 * auto-allocates. Collisions are resolved by probing to the next free address, in a fixed order
 * (sorted keys), so the result depends only on the set of services.
 */
import { createHash } from 'node:crypto';

interface Range {
  base: number;
  size: number;
}

export const SERVICE_CIDR: Range = { base: ipToInt('10.96.0.0'), size: 1 << 20 };
export const AUTO_ALLOCATE_CIDR: Range = { base: ipToInt('240.240.0.0'), size: 1 << 16 };

/** Assigns one address per key; `taken` holds addresses already in use (written clusterIPs). */
export function allocateVips(keys: readonly string[], range: Range, taken: ReadonlySet<string> = new Set()): Map<string, string> {
  const used = new Set(taken);
  const out = new Map<string, string>();
  for (const key of [...new Set(keys)].sort()) {
    // Skip the network address and the first few (10.96.0.1 is the kubernetes API service).
    const usable = range.size - 16;
    let offset = 16 + (hash32(key) % usable);
    let ip = intToIp(range.base + offset);
    for (let tries = 0; used.has(ip) && tries < usable; tries++) {
      offset = 16 + ((offset - 16 + 1) % usable);
      ip = intToIp(range.base + offset);
    }
    used.add(ip);
    out.set(key, ip);
  }
  return out;
}

function hash32(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
