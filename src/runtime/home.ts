/**
 * WEFT_HOME: everything one local mesh keeps on disk, in one place owned by one user. Two meshes
 * with different homes share nothing (not a path, not an address range), so they run side by side.
 *
 *   runtime.sock   the CLI's door to the daemon (HTTP over a unix socket; the home is 0700)
 *   runtime.pid    the lock: the pid of the daemon that owns this home
 *   store/         applied resources, one YAML file each (the control plane watches this folder)
 *   logs/          each container's output, bounded in size; daemon.log for a background daemon
 *   pods/          per-pod files the runtime hands to processes (proxy node identity, token)
 *   control-plane/ each revision's state directory (token key)
 *   ca/            the mesh's CA root, shared by every revision (Istio's istio-ca-secret)
 *   settings.json  choices made at `weft up` that must survive a restart (ingress ports, network)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface WeftHome {
  root: string;
  socket: string;
  pidFile: string;
  store: string;
  logs: string;
  pods: string;
  controlPlanes: string;
  ca: string;
  settings: string;
  /** A short id derived from the root, naming what this mesh creates outside its home. */
  meshId: string;
}

export function weftHome(env: NodeJS.ProcessEnv = process.env): WeftHome {
  const root = resolve(env.WEFT_HOME && env.WEFT_HOME !== '' ? env.WEFT_HOME : join(homedir(), '.weft'));
  return {
    root,
    socket: join(root, 'runtime.sock'),
    pidFile: join(root, 'runtime.pid'),
    store: join(root, 'store'),
    logs: join(root, 'logs'),
    pods: join(root, 'pods'),
    controlPlanes: join(root, 'control-plane'),
    ca: join(root, 'ca'),
    settings: join(root, 'settings.json'),
    meshId: createHash('sha256').update(root).digest('hex').slice(0, 6),
  };
}

/** sockaddr_un holds 108 bytes on Linux (104 on macOS), with the terminating NUL. */
const MAX_SOCKET_PATH = 103;

/** Creates the home and its folders, owner-only: the socket there controls the whole mesh. */
export function prepareHome(home: WeftHome): void {
  const length = Buffer.byteLength(home.socket);
  if (length > MAX_SOCKET_PATH) {
    throw new Error(`WEFT_HOME is too long for a unix socket: ${home.socket} is ${length} bytes, at most ${MAX_SOCKET_PATH} fit; choose a shorter WEFT_HOME`);
  }
  mkdirSync(home.root, { recursive: true, mode: 0o700 });
  chmodSync(home.root, 0o700);
  for (const dir of [home.store, home.logs, home.pods, home.controlPlanes]) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** A revision's control plane state directory ('' is the default revision). */
export function controlPlaneStateDir(home: WeftHome, revision: string): string {
  return join(home.controlPlanes, revision === '' ? 'default' : revision);
}
