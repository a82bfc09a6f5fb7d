/**
 * Names inside pods. `ip netns exec` bind-mounts /etc/netns/<netns>/hosts over /etc/hosts, so
 * every process of a pod resolves service names from the file written here, as a Kubernetes pod
 * resolves them through cluster DNS: `reviews`, `reviews.default`, `reviews.default.svc` and
 * `reviews.default.svc.cluster.local` all name the service's address. The file is rewritten in
 * place (never replaced by rename): a bind mount pins the inode, so running processes see
 * services added after they started.
 */
import { mkdirSync, openSync, closeSync, writeSync, ftruncateSync, rmSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HostEntry {
  ip: string;
  names: string[];
}

/** Where `ip netns exec` looks for a namespace's own /etc files. */
export const NETNS_ETC = '/etc/netns';

/** The names Kubernetes' DNS answers for a service (the search path of a pod in `namespace`). */
export function serviceNames(name: string, namespace: string, domain = 'cluster.local'): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.${domain}`];
}

/** A pod's /etc/hosts: localhost, the pod's own name (as the kubelet writes it), then the mesh's names. */
export function hostsFile(pod: { name: string; ip: string }, entries: readonly HostEntry[]): string {
  const lines = ['# written by weft (netns network): service names of this mesh', '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${pod.ip}\t${pod.name}`];
  for (const e of entries) if (e.names.length > 0) lines.push(`${e.ip}\t${e.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export function writeHostsFile(netns: string, content: string): void {
  const dir = join(NETNS_ETC, netns);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // In place (see the header): open without truncating, write, then cut to length, so a reader
  // never sees an empty file.
  const fd = openSync(join(dir, 'hosts'), constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    const bytes = Buffer.from(content);
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

export function removeHostsDir(netns: string): void {
  rmSync(join(NETNS_ETC, netns), { recursive: true, force: true });
}

/**
 * A host whose resolver is a loopback stub (systemd-resolved's 127.0.0.53) cannot lend it to a
 * pod, which has its own loopback: then the pod gets the stub's upstream servers. Otherwise the
 * pod uses the host's /etc/resolv.conf as is (nothing written).
 */
export function writePodResolvConf(netns: string, hostFile = '/etc/resolv.conf', upstreamFile = '/run/systemd/resolve/resolv.conf'): void {
  const servers = (text: string) => [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1] ?? '');
  let host = '';
  let upstream = '';
  try {
    host = readFileSync(hostFile, 'utf8');
    upstream = readFileSync(upstreamFile, 'utf8');
  } catch {
    return;
  }
  const loopback = (s: string) => s.startsWith('127.') || s === '::1';
  const ours = servers(host);
  if (ours.length === 0 || !ours.every(loopback) || servers(upstream).every(loopback)) return;
  mkdirSync(join(NETNS_ETC, netns), { recursive: true, mode: 0o755 });
  writeFileSync(join(NETNS_ETC, netns, 'resolv.conf'), upstream);
}
