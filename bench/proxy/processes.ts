/**
 * The benchmark's child processes: started on loopback, tracked by pid, ended by pid (even when
 * the run fails or is interrupted), and measured from /proc (resident memory, CPU time).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A started child, with what it has printed so far (for errors and for parsing results). */
export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/** Every process (and temporary folder) one run starts; `stopAll` ends each by pid, whatever happened before. */
export class ProcessGroup {
  readonly #children = new Map<number, Child>();
  readonly #tempDirs = new Set<string>();

  /** A fresh folder under the system temp dir, removed by `remove()` or, at the latest, by `stopAll`/`killAllNow`. */
  tempDir(prefix: string): { path: string; remove(): void } {
    const path = mkdtempSync(join(tmpdir(), prefix));
    this.#tempDirs.add(path);
    return {
      path,
      remove: () => {
        rmSync(path, { recursive: true, force: true });
        this.#tempDirs.delete(path);
      },
    };
  }

  #removeTempDirs(): void {
    for (const d of this.#tempDirs) rmSync(d, { recursive: true, force: true });
    this.#tempDirs.clear();
  }

  start(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): Child {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-8192)));
    const exited = new Promise<number | string>((resolve) => {
      proc.once('error', (e) => resolve(e.message));
      proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    const child: Child = { name, pid: proc.pid, process: proc, stdout: () => out, stderr: () => err, exited };
    this.#children.set(proc.pid, child);
    void exited.then(() => this.#children.delete(child.pid));
    return child;
  }

  /** SIGTERM, then SIGKILL after `graceMs`, to this child and any processes it started (nginx workers). */
  async stop(child: Child, graceMs = 2000): Promise<void> {
    const descendants = processTree(child.pid).slice(1);
    signal(child.pid, 'SIGTERM');
    const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) signal(child.pid, 'SIGKILL');
    for (const pid of descendants) if (alive(pid)) signal(pid, 'SIGKILL');
    await child.exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#children.values()].map((c) => this.stop(c)));
    this.#removeTempDirs();
  }

  /** For process exit: no time to wait, so every remaining child and its descendants get SIGKILL. */
  killAllNow(): void {
    for (const child of this.#children.values()) for (const pid of processTree(child.pid).reverse()) signal(pid, 'SIGKILL');
    this.#removeTempDirs();
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for the child to end by itself; after `timeoutMs` it is stopped and this throws. */
export async function waitForExit(group: ProcessGroup, child: Child, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const result = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (result !== 'late') return result;
  await group.stop(child);
  throw new Error(`${child.name} still running after ${timeoutMs} ms; stopped`);
}

/** Absolute path of a command on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$0"', name], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
}

/** Waits until the child prints a line matching `pattern`; returns the first capture group. */
export async function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(child.stdout()) ?? pattern.exec(child.stderr());
    if (m) return m[1] ?? m[0];
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it was ready: ${tail(child.stderr() || child.stdout())}`);
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not ready after ${timeoutMs} ms: ${tail(child.stderr() || child.stdout())}`);
    await sleep(20);
  }
}

/** Waits until a TCP connection to 127.0.0.1:port succeeds (for servers that print nothing). */
export async function waitForPort(child: Child, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(port)) return;
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it listened on ${port}: ${tail(child.stderr() || child.stdout())}`);
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not listening on ${port} after ${timeoutMs} ms: ${tail(child.stderr())}`);
    await sleep(50);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A port that was free a moment ago: bind port 0 on loopback, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tail(text: string, chars = 400): string {
  const t = text.trim();
  return t.length > chars ? `...${t.slice(-chars)}` : t;
}

// ---------------------------------------------------------------- /proc

/** `pid` followed by all its descendants (children of every thread), depth first. */
export function processTree(pid: number): number[] {
  const out = [pid];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean)) out.push(...processTree(Number(c)));
  }
  return out;
}

/** Resident memory of the process and its descendants, in MiB (VmRSS from /proc/<pid>/status). */
export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // exited between listing and reading
    }
  }
  return kb / 1024;
}

/** The kernel's clock tick for /proc/<pid>/stat times; 100 on every Linux we run on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) used so far by the process and its descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The command name may contain spaces and parentheses; fields restart after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited between listing and reading
    }
  }
  return ticks / CLOCK_TICKS;
}
