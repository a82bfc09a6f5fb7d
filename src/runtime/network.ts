/**
 * How pods get their network. The runtime starts every pod through a NetworkProvider, so the
 * same pod code runs with `plain` (here: loopback addresses, no root, any OS) or `netns` (helper
 * library in ./network/: a network namespace per pod with transparent capture).
 *
 * Plain mode: the mesh takes a /16 of 127.0.0.0/8 (Linux routes all of it to lo), derived from
 * WEFT_HOME and claimed with a lock file in the temp folder, so two meshes side by side never share
 * an address. Each pod gets its own address, and an injected pod a second one for its app: the
 * sidecar binds the pod address on the container ports (what other pods reach), the app binds
 * the second address (given to it as WEFT_BIND_ADDRESS) and the sidecar forwards inbound to it.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from './lock.js';

export type NetworkMode = 'plain' | 'netns';

export interface PodNetworkRequest {
  name: string;
  namespace: string;
  /** The pod runs a sidecar: in plain mode its app needs an address of its own; in netns mode it is captured. */
  injected: boolean;
  /** The pod's annotations (Istio's traffic.sidecar.istio.io/* capture settings). */
  annotations?: Readonly<Record<string, string>>;
}

/** Istio's proxy identity (uid and gid 1337): capture rules exempt the sidecar's own traffic by it. */
export const PROXY_GID = 1337;

/** Host entry: an address and the names that resolve to it inside pods. */
export interface HostName {
  ip: string;
  names: string[];
}

/** A Service's virtual address and the ready endpoints behind each port (kube-proxy's job). */
export interface VirtualService {
  name: string;
  vip: string;
  ports: { port: number; endpoints: { ip: string; port: number }[] }[];
}

/** A provider whose pods resolve service names and reach service VIPs (netns). */
export interface ServiceNetwork {
  writeHosts(entries: readonly HostName[]): void;
  setServices(services: readonly VirtualService[]): Promise<void>;
}

export function isServiceNetwork(p: NetworkProvider): p is NetworkProvider & ServiceNetwork {
  return typeof (p as Partial<ServiceNetwork>).setServices === 'function' && typeof (p as Partial<ServiceNetwork>).writeHosts === 'function';
}

export interface PodNetwork {
  /** The pod's address: in the registry, where its sidecar and probes listen. */
  ip: string;
  /** Where the app binds (WEFT_BIND_ADDRESS): `ip`, or in plain mode a second address behind the sidecar. */
  appAddress: string;
  /**
   * Runs a container's command inside the pod's network (netns: `ip netns exec`); plain: as is.
   * `as`: the identity the sidecar runs with, so capture rules can exempt its own traffic.
   */
  wrap(command: string, args: readonly string[], as?: { uid?: number; gid?: number }): [string, string[]];
}

export interface NetworkProvider {
  readonly mode: NetworkMode;
  /** Removes what a crashed run of this mesh left behind (only its own). */
  cleanupLeftovers(): Promise<void>;
  setup(): Promise<void>;
  createPod(request: PodNetworkRequest): Promise<PodNetwork>;
  deletePod(pod: PodNetwork): Promise<void>;
  teardown(): Promise<void>;
}

const LOCK_DIR = join(tmpdir(), 'weft-loopback');

export class PlainNetwork implements NetworkProvider {
  readonly mode = 'plain' as const;
  readonly #meshId: string;
  readonly #home: string;
  #octet = 0;
  #next = 1;
  readonly #free: number[] = [];

  constructor(meshId: string, home: string) {
    this.#meshId = meshId;
    this.#home = home;
  }

  /** The /16 this mesh holds, e.g. `127.83.0.0/16`. */
  get range(): string {
    return `127.${this.#octet}.0.0/16`;
  }

  cleanupLeftovers(): Promise<void> {
    return Promise.resolve(); // loopback addresses leave nothing behind
  }

  setup(): Promise<void> {
    mkdirSync(LOCK_DIR, { recursive: true, mode: 0o1777 });
    const start = 1 + (parseInt(this.#meshId, 16) % 254);
    for (let i = 0; i < 254; i++) {
      const octet = 1 + ((start - 1 + i) % 254);
      if (this.#claim(octet)) {
        this.#octet = octet;
        return Promise.resolve();
      }
    }
    return Promise.reject(new Error('every loopback /16 is claimed by another running mesh'));
  }

  /** One more address of this mesh's range, for something that is not a pod (a service address). */
  allocateAddress(): string {
    return this.#allocate();
  }

  createPod(request: PodNetworkRequest): Promise<PodNetwork> {
    const ip = this.#allocate();
    const appAddress = request.injected ? this.#allocate() : ip;
    return Promise.resolve({ ip, appAddress, wrap: (command, args) => [command, [...args]] });
  }

  deletePod(pod: PodNetwork): Promise<void> {
    for (const address of new Set([pod.ip, pod.appAddress])) {
      const [, , hi, lo] = address.split('.').map(Number);
      if (hi !== undefined && lo !== undefined) this.#free.push(hi * 256 + lo);
    }
    return Promise.resolve();
  }

  teardown(): Promise<void> {
    if (this.#octet !== 0) rmSync(join(LOCK_DIR, String(this.#octet)), { force: true });
    this.#octet = 0;
    return Promise.resolve();
  }

  #allocate(): string {
    if (this.#octet === 0) throw new Error('the plain network is not set up');
    // Freed addresses are reused last-in last-out after the fresh ones run out, so a restarted
    // pod rarely gets the address a just-stopped pod had (stale connections go nowhere).
    let n = this.#next <= 65_533 ? this.#next++ : this.#free.shift();
    while (n !== undefined && (n % 256 === 0 || n % 256 === 255)) n = this.#next <= 65_533 ? this.#next++ : this.#free.shift();
    if (n === undefined) throw new Error(`no free address left in ${this.range}`);
    return `127.${this.#octet}.${Math.floor(n / 256)}.${n % 256}`;
  }

  /** Takes 127.<octet>/16 unless a live mesh with another home holds it. */
  #claim(octet: number): boolean {
    const path = join(LOCK_DIR, String(octet));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        writeSync(fd, JSON.stringify({ pid: process.pid, home: this.#home }));
        closeSync(fd);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let holder: { pid?: number; home?: string } = {};
        try {
          holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
        } catch {
          // half-written or garbage: treat as stale
        }
        if (holder.pid !== undefined && processAlive(holder.pid) && !(holder.home === this.#home && holder.pid === process.pid)) return false;
        rmSync(path, { force: true });
      }
    }
    return false;
  }
}
