/**
 * The mesh's pod subnet: a private /24 derived from the mesh id, so two meshes side by side get
 * different ones, moved on when any address or route already on the host overlaps it (another
 * mesh, Docker, a VPN). Pure helpers plus one probe of the host's addresses and routes.
 */
import { createHash } from 'node:crypto';
import { run } from './exec.js';

export interface Subnet {
  /** `10.163.52.0/24` */
  cidr: string;
  /** The bridge's address, the pods' default gateway: `.1`. */
  gateway: string;
  /** `10.163.52.` (pods are `.2` to `.254`). */
  prefix: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

/** `10.1.2.0/24` -> [first, last] as integers. */
export function cidrRange(cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/');
  const n = Number(bits);
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new Error(`not a CIDR: ${JSON.stringify(cidr)}`);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  const first = (ipToInt(ip) & mask) >>> 0;
  return [first, (first | (~mask >>> 0)) >>> 0];
}

export function overlaps(a: string, b: string): boolean {
  const [a0, a1] = cidrRange(a);
  const [b0, b1] = cidrRange(b);
  return a0 <= b1 && b0 <= a1;
}

export function subnetOf(cidr: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(cidr);
  if (!m) throw new Error(`pod subnet ${JSON.stringify(cidr)}: expected a /24 like 10.200.7.0/24`);
  cidrRange(cidr);
  const prefix = `${m[1]}.${m[2]}.${m[3]}.`;
  return { cidr, gateway: `${prefix}1`, prefix };
}

/**
 * Candidate subnets for a mesh id, in order: 10.128.0.0/24 .. 10.223.255.0/24 (clear of
 * Kubernetes' service range 10.96.0.0/12, which Weft uses for VIPs, and of Docker's defaults).
 */
export function* candidateSubnets(meshId: string): Generator<string> {
  const span = 96 * 256;
  const start = createHash('sha256').update(meshId).digest().readUInt32BE(0) % span;
  for (let i = 0; i < span; i++) {
    const idx = (start + i * 7919) % span; // 7919 is prime to span: every /24 once
    yield `10.${128 + Math.floor(idx / 256)}.${idx % 256}.0/24`;
  }
}

/** Every IPv4 prefix the host already uses: interface addresses and routes of every table. */
export async function hostPrefixes(): Promise<string[]> {
  const out: string[] = [];
  const addrs = JSON.parse(await run('ip', ['-j', '-4', 'addr', 'show'])) as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  for (const link of addrs) for (const a of link.addr_info ?? []) if (a.local) out.push(`${a.local}/${a.prefixlen ?? 32}`);
  const routes = JSON.parse(await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) as { dst?: string; type?: string }[];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || (r.type !== undefined && r.type !== 'unicast')) continue;
    out.push(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
  }
  return out.filter((p) => !p.startsWith('127.'));
}

export function pickSubnet(meshId: string, taken: readonly string[]): Subnet {
  for (const cidr of candidateSubnets(meshId)) if (!taken.some((t) => overlaps(t, cidr))) return subnetOf(cidr);
  throw new Error('no free /24 left in 10.128.0.0/9 for the pod network');
}
