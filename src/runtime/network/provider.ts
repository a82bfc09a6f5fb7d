/**
 * `--network netns`: every pod in its own network namespace, as in a Kubernetes pod. Per mesh
 * (per WEFT_HOME, named by its meshId): a bridge `w<id>-br` holding `.1` of a private /24, and per
 * pod a namespace `weft-<id>-<n>` (n = the last octet of its IP) with `lo` up, an `eth0` veth whose
 * host end `w<id>-<n>` sits on the bridge, and a default route via the bridge. Pods reach each
 * other directly over the bridge; injected pods get istio-iptables capture (capture-rules.ts);
 * service VIPs work for pods without a sidecar through DNAT on the host (services.ts); names
 * resolve through each pod's hosts file (hosts.ts).
 *
 * Host rules live in chains of this mesh only (`WEFT-<id>-FWD` in filter, `WEFT-<id>-SVC` and
 * `WEFT-<id>-POST` in nat), entered by one jump each from a built-in chain, tagged `weft:<id>`. So
 * teardown and cleanupLeftovers find everything by name and never touch another mesh's (or
 * Docker's) rules. The one host-wide change is net.ipv4.ip_forward=1 (VIPs and egress are
 * routed), which is left on, as Docker and kube-proxy leave it.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { NetworkProvider, PodNetwork, PodNetworkRequest } from '../network.js';
import { run, tryRun } from './exec.js';
import { hostPrefixes, ipToInt, overlaps, pickSubnet, subnetOf, type Subnet } from './addresses.js';
import { captureRules, PROXY_PORTS } from './capture-rules.js';
import { hostsFile, NETNS_ETC, removeHostsDir, writeHostsFile, writePodResolvConf, type HostEntry } from './hosts.js';
import { serviceRules, type ServiceVip } from './services.js';
import { nativeAddonProblem } from './native.js';

/** Istio's proxy identity: connections of this uid or gid are never captured. */
export const PROXY_UID = 1337;
export const PROXY_GID = 1337;

export interface NetnsOptions {
  /** A /24 to use instead of the one derived from the mesh id (must not overlap the host's). */
  cidr?: string;
  proxyUid?: number;
  proxyGid?: number;
  /** The sidecar's capture ports (15001, 15006). */
  outboundPort?: number;
  inboundPort?: number;
}

export interface NetnsPodRequest extends PodNetworkRequest {
  /** A specific address in the mesh's subnet (default: the lowest free one). */
  ip?: string;
  /** The pod's annotations: Istio's traffic.sidecar.istio.io/* capture settings. */
  annotations?: Readonly<Record<string, string>>;
}

/** Who a wrapped command runs as; the sidecar: `{ gid: PROXY_GID }` (see wrap). */
export interface RunAs {
  uid?: number;
  gid?: number;
}

export interface NetnsPod extends PodNetwork {
  name: string;
  namespace: string;
  netns: string;
  /** The veth end on the host's bridge. */
  hostInterface: string;
  /** Capture rules were installed (injected, interceptionMode not NONE). */
  captured: boolean;
  /**
   * `ip netns exec <netns> [setpriv ...] command args`: the process (same pid: everything execs)
   * runs in the pod's namespace and sees the pod's /etc/hosts. Run the sidecar with
   * `{ gid: PROXY_GID }`: excluded from capture by its gid while keeping uid 0, so it can still
   * read the runtime's owner-only files (Istio runs it as uid and gid 1337; both are excluded).
   */
  wrap(command: string, args: readonly string[], as?: RunAs): [string, string[]];
}

export interface MeshNetworkResources {
  netns: string[];
  links: string[];
  /** `table: rule` for jumps into this mesh's chains, and the chains themselves. */
  rules: string[];
  hostsDirs: string[];
}

export class NetnsNetwork implements NetworkProvider {
  readonly mode = 'netns' as const;
  readonly meshId: string;
  readonly #opts: Required<Omit<NetnsOptions, 'cidr'>> & { cidr: string | undefined };
  #subnet: Subnet | undefined;
  readonly #pods = new Map<number, NetnsPod>();
  #hosts: HostEntry[] = [];
  /** The last service rules handed to iptables-restore (see setServices). */
  #servicesApplied: Promise<void> = Promise.resolve();

  constructor(meshId: string, opts: NetnsOptions = {}) {
    this.meshId = checkMeshId(meshId);
    this.#opts = { cidr: opts.cidr, proxyUid: opts.proxyUid ?? PROXY_UID, proxyGid: opts.proxyGid ?? PROXY_GID, outboundPort: opts.outboundPort ?? 15001, inboundPort: opts.inboundPort ?? 15006 };
  }

  /** Why netns mode cannot run on this machine, or undefined when it can. */
  static async problem(): Promise<string | undefined> {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'network namespaces and iptables need root (run as root, or use --network plain)';
    for (const [tool, args, pkg] of [['ip', ['-V'], 'iproute2'], ['iptables', ['-V'], 'iptables'], ['iptables-restore', ['-V'], 'iptables'], ['setpriv', ['--version'], 'util-linux']] as const) {
      if (!(await tryRun(tool, args))) return `${tool} is not installed (Debian: apt-get install ${pkg})`;
    }
    return nativeAddonProblem();
  }

  get subnet(): Subnet {
    if (!this.#subnet) throw new Error('the netns network is not set up');
    return this.#subnet;
  }

  get bridge(): string {
    return `w${this.meshId}-br`;
  }

  async cleanupLeftovers(): Promise<void> {
    await removeMeshNetwork(this.meshId);
  }

  async setup(): Promise<void> {
    await removeMeshNetwork(this.meshId);
    const taken = await hostPrefixes();
    if (this.#opts.cidr !== undefined) {
      const wanted = subnetOf(this.#opts.cidr);
      const clash = taken.find((t) => overlaps(t, wanted.cidr));
      if (clash) throw new Error(`pod subnet ${wanted.cidr} overlaps ${clash}, already on this host`);
      this.#subnet = wanted;
    } else {
      this.#subnet = pickSubnet(this.meshId, taken);
    }
    const { cidr, gateway } = this.#subnet;
    const br = this.bridge;
    const id = this.meshId;
    await run('ip', ['-batch', '-'], [`link add ${br} type bridge`, `addr add ${gateway}/24 dev ${br}`, `link set ${br} up`, ''].join('\n'));
    if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
    const tag = ['-m', 'comment', '--comment', `weft:${id}`];
    await run('iptables-restore', ['-w', '--noflush'], [
      '*filter', `:WEFT-${id}-FWD - [0:0]`, `:WEFT-${id}-REJ - [0:0]`, `-A WEFT-${id}-FWD -i ${br} -j WEFT-${id}-REJ`, `-A WEFT-${id}-FWD -i ${br} -j ACCEPT`, `-A WEFT-${id}-FWD -o ${br} -j ACCEPT`, 'COMMIT',
      // Hairpin: a pod calling a VIP that lands on a pod of the same bridge must see the answer come
      // back through the host (or it arrives from the pod IP and is refused); egress leaves as the host.
      '*nat', `:WEFT-${id}-SVC - [0:0]`, `:WEFT-${id}-POST - [0:0]`,
      `-A WEFT-${id}-POST -s ${cidr} -d ${cidr} -m conntrack --ctstate DNAT -j MASQUERADE`,
      // (By destination, not out-interface: with br_netfilter loaded, bridged pod-to-pod frames pass here too.)
      `-A WEFT-${id}-POST -s ${cidr} ! -d ${cidr} -j MASQUERADE`, 'COMMIT', '',
    ].join('\n'));
    await run('iptables', ['-w', '-I', 'FORWARD', '1', ...tag, '-j', `WEFT-${id}-FWD`]);
    await run('iptables', ['-w', '-t', 'nat', '-I', 'PREROUTING', '1', '-i', br, ...tag, '-j', `WEFT-${id}-SVC`]);
    await run('iptables', ['-w', '-t', 'nat', '-I', 'POSTROUTING', '1', ...tag, '-j', `WEFT-${id}-POST`]);
  }

  async createPod(request: NetnsPodRequest): Promise<NetnsPod> {
    const subnet = this.subnet;
    const n = this.#allocate(request.ip);
    const ip = `${subnet.prefix}${n}`;
    const netns = `weft-${this.meshId}-${n}`;
    const veth = `w${this.meshId}-${n}`;
    let rules: string | undefined;
    try {
      rules = request.injected ? captureRules({ proxyUid: this.#opts.proxyUid, proxyGid: this.#opts.proxyGid, outboundPort: this.#opts.outboundPort, inboundPort: this.#opts.inboundPort, proxyPorts: PROXY_PORTS, annotations: request.annotations ?? {} }) : undefined;
    } catch (err) {
      throw new Error(`pod ${request.namespace}/${request.name}: ${(err as Error).message}`);
    }
    const pod: NetnsPod = {
      name: request.name,
      namespace: request.namespace,
      ip,
      appAddress: ip,
      netns,
      hostInterface: veth,
      captured: rules !== undefined,
      wrap: (command, args, as) => ['ip', ['netns', 'exec', netns, ...dropTo(as), command, ...args]],
    };
    this.#pods.set(n, pod);
    try {
      await run('ip', ['-batch', '-'], [`netns add ${netns}`, `link add ${veth} type veth peer name eth0 netns ${netns}`, `link set ${veth} master ${this.bridge} up`,
        // Hairpin (as the kubelet's hairpin-veth): with br_netfilter, a pod's call to a VIP that
        // lands on itself is DNATed in the bridge and must go back out the port it came in on.
        `link set ${veth} type bridge_slave hairpin on`, ''].join('\n'));
      await run('ip', ['-n', netns, '-batch', '-'], ['link set lo up', `addr add ${ip}/24 dev eth0`, 'link set eth0 up', `route add default via ${subnet.gateway}`, ''].join('\n'));
      writeHostsFile(netns, hostsFile({ name: request.name, ip }, this.#hosts));
      writePodResolvConf(netns);
      if (rules !== undefined) await run('ip', ['netns', 'exec', netns, 'iptables-restore', '-w', '--noflush'], rules);
    } catch (err) {
      await this.deletePod(pod);
      throw new Error(`pod ${request.namespace}/${request.name}: cannot set up its network: ${(err as Error).message}`);
    }
    return pod;
  }

  async deletePod(pod: PodNetwork): Promise<void> {
    const n = ipToInt(pod.ip) & 0xff;
    const own = this.#pods.get(n);
    if (!own || own.ip !== pod.ip) return;
    await removePodNetwork(own.netns, own.hostInterface);
    this.#pods.delete(n);
  }

  /** Sets the names every pod resolves (its own name is added per pod); rewrites every pod's file. */
  writeHosts(entries: readonly HostEntry[]): void {
    this.#hosts = entries.map((e) => ({ ip: e.ip, names: [...e.names] }));
    for (const pod of this.#pods.values()) writeHostsFile(pod.netns, hostsFile(pod, this.#hosts));
  }

  /** Replaces the VIP -> endpoint DNAT rules for pods without a sidecar, in one atomic swap. */
  async setServices(services: readonly ServiceVip[]): Promise<void> {
    if (!this.#subnet) throw new Error('the netns network is not set up');
    const rules = serviceRules(`WEFT-${this.meshId}-SVC`, services, `WEFT-${this.meshId}-REJ`);
    // One restore at a time, in call order: callers do not wait, and an older document whose
    // process started late (a loaded host) must never land after a newer one and stay.
    const applied = this.#servicesApplied.then(() => run('iptables-restore', ['-w', '--noflush'], rules));
    this.#servicesApplied = applied.then(() => undefined, () => undefined);
    await applied;
  }

  get pods(): readonly NetnsPod[] {
    return [...this.#pods.values()];
  }

  async teardown(): Promise<void> {
    // A restore still queued would declare the service chains again after they are gone.
    await this.#servicesApplied;
    await removeMeshNetwork(this.meshId);
    this.#pods.clear();
    this.#subnet = undefined;
  }

  #allocate(wanted: string | undefined): number {
    const subnet = this.subnet;
    if (wanted !== undefined) {
      if (!wanted.startsWith(subnet.prefix)) throw new Error(`pod address ${wanted} is outside the mesh's subnet ${subnet.cidr}`);
      const n = Number(wanted.slice(subnet.prefix.length));
      if (!Number.isInteger(n) || n < 2 || n > 254) throw new Error(`pod address ${wanted}: must be .2 to .254 of ${subnet.cidr}`);
      if (this.#pods.has(n)) throw new Error(`pod address ${wanted} is in use by ${this.#pods.get(n)?.namespace}/${this.#pods.get(n)?.name}`);
      return n;
    }
    for (let n = 2; n <= 254; n++) if (!this.#pods.has(n)) return n;
    throw new Error(`no free pod address left in ${subnet.cidr} (253 pods per mesh)`);
  }
}

function dropTo(as: RunAs | undefined): string[] {
  if (!as || (as.uid === undefined && as.gid === undefined)) return [];
  return ['setpriv', ...(as.uid !== undefined ? [`--reuid=${as.uid}`] : []), ...(as.gid !== undefined ? [`--regid=${as.gid}`, '--clear-groups'] : []), '--'];
}

function checkMeshId(id: string): string {
  // Interface names are at most 15 bytes: `w<id>-<n>` leaves 8 for the id.
  if (!/^[0-9a-z]{1,8}$/.test(id)) throw new Error(`mesh id ${JSON.stringify(id)}: expected 1-8 lowercase letters or digits`);
  return id;
}

/** Kills what still runs in a pod's namespace, then removes the namespace, its veth and hosts file. */
async function removePodNetwork(netns: string, veth: string | undefined): Promise<void> {
  const pids = await run('ip', ['netns', 'pids', netns]).catch(() => '');
  for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (veth !== undefined) await tryRun('ip', ['link', 'del', veth]);
  await tryRun('ip', ['netns', 'del', netns]);
  removeHostsDir(netns);
}

/** Everything on this host that belongs to the mesh `meshId`, found by name. */
export async function listMeshNetwork(meshId: string): Promise<MeshNetworkResources> {
  const id = checkMeshId(meshId);
  const nsPattern = new RegExp(`^weft-${id}-\\d+$`);
  const linkPattern = new RegExp(`^w${id}-(br|\\d+)$`);
  const netnsOut = await run('ip', ['netns', 'list']).catch(() => '');
  const netns = netnsOut.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => nsPattern.test(n));
  const links = (JSON.parse(await run('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).filter((n) => linkPattern.test(n));
  const rules: string[] = [];
  for (const table of ['filter', 'nat']) {
    const saved = await run('iptables-save', ['-t', table]).catch(() => '');
    for (const line of saved.split('\n')) {
      if (line.startsWith(`:WEFT-${id}-`) || (line.startsWith('-A ') && line.includes(`WEFT-${id}-`) && !line.startsWith(`-A WEFT-${id}-`))) rules.push(`${table}: ${line}`);
    }
  }
  let hostsDirs: string[] = [];
  try {
    hostsDirs = readdirSync(NETNS_ETC).filter((n) => nsPattern.test(n));
  } catch {
    // no /etc/netns at all
  }
  return { netns, links, rules, hostsDirs };
}

/** Removes every namespace, interface, rule and hosts file of the mesh `meshId`, and nothing else. */
export async function removeMeshNetwork(meshId: string): Promise<void> {
  const id = checkMeshId(meshId);
  const found = await listMeshNetwork(id);
  for (const ns of found.netns) await removePodNetwork(ns, `w${id}-${ns.slice(`weft-${id}-`.length)}`);
  for (const dir of found.hostsDirs) removeHostsDir(dir);
  const chains: [string, string][] = [];
  for (const entry of found.rules) {
    const [table = '', line = ''] = entry.split(/: (.*)/s);
    if (line.startsWith(':')) chains.push([table, line.slice(1).split(' ')[0] ?? '']);
    // `-A CHAIN spec` -> `-D CHAIN spec` (our rules carry no spaces inside an argument).
    else await tryRun('iptables', ['-w', '-t', table, '-D', ...line.slice(3).replace(/"/g, '').split(' ')]);
  }
  // Flush all before deleting any: the mesh's chains jump to each other.
  for (const [table, chain] of chains) await tryRun('iptables', ['-w', '-t', table, '-F', chain]);
  for (const [table, chain] of chains) await tryRun('iptables', ['-w', '-t', table, '-X', chain]);
  for (const link of (await listMeshNetwork(id)).links) await tryRun('ip', ['link', 'del', link]);
}
