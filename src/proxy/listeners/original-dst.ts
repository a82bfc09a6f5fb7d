/**
 * Where a transparently captured connection was headed before iptables redirected it to the
 * sidecar (SO_ORIGINAL_DST). Node has no API for it, so it comes from Weft's small N-API addon
 * (native/original_dst.c, built at `npm install`): one getsockopt per accepted connection on the
 * capture ports, about a microsecond. The alternatives were worse: a capture port per service
 * VIP:port (a bound port per service port, rules rewritten on every service change, and no
 * answer at all for destinations outside the mesh, which ALLOW_ANY must pass through), or TPROXY
 * (needs IP_TRANSPARENT on the listening socket, which Node cannot set either, plus policy routing).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';

export interface OriginalDestination {
  address: string;
  port: number;
}

interface Addon {
  originalDestination(fd: number): OriginalDestination | null;
}

let loaded: { addon: Addon } | { problem: string } | undefined;

function load(): { addon: Addon } | { problem: string } {
  if (loaded) return loaded;
  const path = addonPath();
  if (!path) {
    loaded = { problem: 'the original-destination addon native/build/weft_native.node is not built: install a C compiler and run `npm install` (or `node native/build.mjs`)' };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as Partial<Addon>;
    loaded = typeof addon.originalDestination === 'function' ? { addon: addon as Addon } : { problem: `${path} is not Weft's addon` };
  } catch (err) {
    loaded = { problem: `${path} does not load: ${(err as Error).message}` };
  }
  return loaded;
}

/** WEFT_NATIVE_ADDON, else the first native/build/weft_native.node above this file (dist/ or a build folder). */
function addonPath(): string | undefined {
  const env = process.env.WEFT_NATIVE_ADDON;
  if (env) return existsSync(env) ? env : undefined;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'native', 'build', 'weft_native.node');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** undefined when original destinations can be read here; otherwise why not. */
export function originalDestinationProblem(): string | undefined {
  if (process.platform !== 'linux') return `original destinations need Linux's SO_ORIGINAL_DST (this is ${process.platform})`;
  const l = load();
  return 'problem' in l ? l.problem : undefined;
}

/**
 * The destination the client connected to, or undefined when it is unknown (no NAT record: the
 * connection was not redirected, or conntrack is not loaded, or no addon).
 */
export function originalDestination(socket: Socket): OriginalDestination | undefined {
  const l = load();
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if ('problem' in l || typeof fd !== 'number' || fd < 0) return undefined;
  try {
    const od = l.addon.originalDestination(fd);
    return od ? { address: unmapped(od.address), port: od.port } : undefined;
  } catch {
    return undefined;
  }
}

/** `::ffff:10.1.2.3` -> `10.1.2.3`, as Node reports IPv4 peers of a dual-stack socket. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
