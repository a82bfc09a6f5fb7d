/**
 * One container as a supervised process: started in its own process group (so stopping it stops
 * whatever it spawned), its output kept in a bounded log file, its readiness probed, and, when it
 * exits on its own, restarted with exponential backoff (CrashLoopBackOff) and counted, as the
 * kubelet does for `restartPolicy: Always`; a container failing its liveness (or startup) probe is
 * stopped and restarted the same way. The kubelet's backoff starts at 10 s and caps at
 * 5 min; a laptop mesh wants quicker feedback, so here it starts at 1 s and caps at 60 s, and is
 * forgotten once the container has run for two minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Probe } from '../../resources/kube/container.js';
import { LogFile } from './logs.js';
import { probeOnce, type ProbeTarget } from './probe.js';

export interface ContainerSpec {
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  /** An init container: exit 0 completes it (no restart); any other exit is retried with backoff. */
  runToCompletion?: boolean;
  /** How long SIGTERM may take after a failed liveness probe before SIGKILL. */
  graceMs?: number;
  probeTarget: ProbeTarget;
  logPath: string;
  /** Why it cannot start (bad command, unsupported env source): it waits with this as its reason. */
  problem?: string;
  /** Called after the process is spawned, so the pod can note pids for leftover cleanup. */
  onSpawn?: (pid: number) => void;
}

export type ContainerState =
  | { kind: 'waiting'; reason: string; since: Date }
  | { kind: 'running'; since: Date }
  | { kind: 'terminated'; exitCode: number | null; signal: string | null; since: Date; reason?: string };

export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
const BACKOFF_RESET_MS = 120_000;
/** Until a container is first ready its probe runs this often, whatever periodSeconds says. */
const EARLY_PROBE_MS = 150;

export class Container {
  readonly spec: ContainerSpec;
  readonly log: LogFile;
  restartCount = 0;
  ready = false;
  state: ContainerState = { kind: 'waiting', reason: 'ContainerCreating', since: new Date() };
  lastTermination: { exitCode: number | null; signal: string | null; at: Date } | undefined;
  #child: ChildProcess | undefined;
  #stopping = false;
  #exited: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  readonly #probeTimers = new Set<NodeJS.Timeout>();
  /** Which run of the process probes belong to: a probe of an earlier run never counts. */
  #run = 0;
  #backoffMs = BACKOFF_INITIAL_MS;
  #everReady = false;
  readonly #onChange: () => void;

  constructor(spec: ContainerSpec, onChange: () => void) {
    this.spec = spec;
    this.log = new LogFile(spec.logPath);
    this.#onChange = onChange;
  }

  get completed(): boolean {
    return this.state.kind === 'terminated' && this.state.reason === 'Completed';
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.#stopping) return;
    if (this.spec.problem !== undefined) {
      this.log.write(`weft runtime: cannot start container ${this.spec.name}: ${this.spec.problem}\n`);
      this.state = { kind: 'waiting', reason: 'CreateContainerConfigError', since: new Date() };
      this.#onChange();
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, [...this.spec.args], { env: this.spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      this.log.write(`weft runtime: cannot start container ${this.spec.name}: ${(err as Error).message}\n`);
      this.#crashed(null, null);
      return;
    }
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => this.log.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.log.write(chunk));
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    this.#exited = new Promise((resolve) => child.once('close', (code, signal) => {
      if (spawnError) this.log.write(`weft runtime: cannot start container ${this.spec.name}: ${spawnError.message}\n`);
      if (this.#child === child) this.#child = undefined;
      this.#crashed(code, signal);
      resolve();
    }));
    if (child.pid !== undefined) this.spec.onSpawn?.(child.pid);
    this.#run++;
    this.state = { kind: 'running', since: new Date() };
    this.#onChange();
    this.#startProbes();
  }

  /** SIGTERM to the process group, SIGKILL after the grace period; resolves when it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#clearProbes();
    const child = this.#child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signalGroup(child.pid, 'SIGTERM');
      const kill = setTimeout(() => signalGroup(child.pid ?? 0, 'SIGKILL'), Math.max(graceMs, 0));
      await this.#exited;
      clearTimeout(kill);
    }
    // Whatever the container spawned in its group goes with it.
    if (child?.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    this.ready = false;
  }

  #clearProbes(): void {
    for (const t of this.#probeTimers) clearTimeout(t);
    this.#probeTimers.clear();
  }

  #crashed(code: number | null, signal: NodeJS.Signals | null): void {
    this.#clearProbes();
    const wasRunning = this.state.kind === 'running' ? this.state.since : undefined;
    this.ready = false;
    this.#everReady = false;
    this.lastTermination = { exitCode: code, signal, at: new Date() };
    if (this.spec.runToCompletion && code === 0 && !this.#stopping) {
      this.state = { kind: 'terminated', exitCode: 0, signal: null, since: new Date(), reason: 'Completed' };
      this.#onChange();
      return;
    }
    if (this.#stopping) {
      this.state = { kind: 'terminated', exitCode: code, signal, since: new Date() };
      this.#onChange();
      return;
    }
    if (wasRunning && Date.now() - wasRunning.getTime() > BACKOFF_RESET_MS) this.#backoffMs = BACKOFF_INITIAL_MS;
    this.restartCount++;
    this.state = { kind: 'waiting', reason: this.spec.runToCompletion ? 'Init:CrashLoopBackOff' : 'CrashLoopBackOff', since: new Date() };
    this.log.write(`weft runtime: container ${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${this.#backoffMs} ms\n`);
    this.#onChange();
    this.#timer = setTimeout(() => this.start(), this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
  }

  /** Startup probe first (if any); then readiness and liveness, as the kubelet orders them. */
  #startProbes(): void {
    const run = this.#run;
    const startup = this.spec.startupProbe;
    if (!startup) {
      this.#afterStartup(run);
      return;
    }
    this.#loop(run, startup, () => true, (ok, streak) => {
      if (ok) {
        this.#afterStartup(run);
        return false;
      }
      if (streak.failures >= startup.failureThreshold) {
        this.#kill(run, 'startup probe failed');
        return false;
      }
      return true;
    });
  }

  #afterStartup(run: number): void {
    const readiness = this.spec.readinessProbe;
    if (!readiness) this.#setReady(true); // no probe: ready once started, as the kubelet does
    else {
      this.#loop(run, readiness, () => !this.#everReady, (ok, streak) => {
        if (ok && streak.successes >= readiness.successThreshold) this.#setReady(true);
        if (!ok && (streak.failures >= readiness.failureThreshold || !this.#everReady)) this.#setReady(false);
        return true;
      });
    }
    const liveness = this.spec.livenessProbe;
    if (liveness) {
      this.#loop(run, liveness, () => false, (ok, streak) => {
        if (ok || streak.failures < liveness.failureThreshold) return true;
        this.#kill(run, 'liveness probe failed');
        return false;
      });
    }
  }

  /** Runs a probe every period (more often while `early()`), for this run of the process only. */
  #loop(run: number, probe: Probe, early: () => boolean, onResult: (ok: boolean, streak: { successes: number; failures: number }) => boolean): void {
    const streak = { successes: 0, failures: 0 };
    const schedule = (ms: number) => {
      const t = setTimeout(() => {
        this.#probeTimers.delete(t);
        void tick();
      }, ms);
      this.#probeTimers.add(t);
    };
    const tick = async () => {
      if (this.#run !== run || this.#stopping) return;
      const ok = await probeOnce(probe, this.spec.probeTarget);
      if (this.#run !== run || this.#stopping) return;
      if (ok) {
        streak.successes++;
        streak.failures = 0;
      } else {
        streak.failures++;
        streak.successes = 0;
      }
      if (!onResult(ok, streak)) return;
      const period = probe.periodSeconds * 1000;
      schedule(early() ? Math.min(EARLY_PROBE_MS, period) : period);
    };
    schedule(probe.initialDelaySeconds * 1000);
  }

  /** The kubelet's answer to a failed liveness or startup probe: stop the process; it is restarted. */
  #kill(run: number, reason: string): void {
    const child = this.#child;
    if (this.#run !== run || child?.pid === undefined) return;
    this.log.write(`weft runtime: container ${this.spec.name}: ${reason}; it will be restarted\n`);
    signalGroup(child.pid, 'SIGTERM');
    const t = setTimeout(() => signalGroup(child.pid ?? 0, 'SIGKILL'), this.spec.graceMs ?? 30_000);
    void this.#exited.then(() => clearTimeout(t));
  }

  #setReady(ready: boolean): void {
    if (ready) this.#everReady = true;
    if (this.ready === ready) return;
    this.ready = ready;
    this.#onChange();
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
