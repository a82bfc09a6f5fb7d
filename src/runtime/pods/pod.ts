/**
 * A running pod: its network, its containers as supervised processes, and its Kubernetes-shaped
 * status. The proxy (sidecar or gateway) starts first and the apps only once it reports ready, so
 * an app never sends a request its sidecar cannot route yet (Istio's
 * holdApplicationUntilProxyStarts, always on here). Stopping ends every container, then frees
 * the network.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROXY_GID, type NetworkProvider, type PodNetwork } from '../network.js';
import { Container } from './container.js';
import type { PlannedContainer, PodPlan } from './plan.js';

export interface PodOptions {
  name: string;
  namespace: string;
  uid: string;
  deployment: string;
  deploymentUid: string;
  templateHash: string;
  logDir: string;
  network: NetworkProvider;
  /** Gets a sidecar: in plain mode its app needs an address of its own. */
  injected: boolean;
  annotations: Readonly<Record<string, string>>;
  /** Builds the plan once the pod has an address; called again while the plan waits for something. */
  plan(network: PodNetwork): PodPlan;
  /** Status changed: the owner rewrites the Pod object and reconsiders the rollout. */
  onChange(pod: Pod): void;
  /** Every container pid, for cleanup after a crash of the daemon. */
  onSpawn(pid: number): void;
  graceMs: number;
}

export type PodPhase = 'Pending' | 'Running' | 'Terminating' | 'Stopped';

export class Pod {
  readonly options: PodOptions;
  readonly createdAt = new Date();
  phase: PodPhase = 'Pending';
  network: PodNetwork | undefined;
  plan: PodPlan | undefined;
  proxy: Container | undefined;
  containers: Container[] = [];
  initContainers: Container[] = [];
  /** Why the pod is not running yet. */
  message: string | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #endDelay: (() => void) | undefined;
  #appsStarted = false;
  #waitTimer: NodeJS.Timeout | undefined;

  constructor(options: PodOptions) {
    this.options = options;
  }

  get name(): string {
    return this.options.name;
  }

  get namespace(): string {
    return this.options.namespace;
  }

  get ready(): boolean {
    const all = this.#all();
    return this.phase === 'Running' && all.length > 0 && this.#appsStarted && all.every((c) => c.ready);
  }

  async start(): Promise<void> {
    try {
      this.network = await this.options.network.createPod({ name: this.name, namespace: this.namespace, injected: this.options.injected, annotations: this.options.annotations });
      // Stopped while its network was being made: give the network back, start nothing.
      if (this.#stopped) await this.options.network.deletePod(this.network).catch(() => undefined);
    } catch (err) {
      this.message = `network: ${(err as Error).message}`;
      this.options.onChange(this);
      return;
    }
    this.#tryPlan();
  }

  #tryPlan(): void {
    if (this.#stopped || !this.network) return;
    let plan: PodPlan;
    try {
      plan = this.options.plan(this.network);
    } catch (err) {
      this.message = (err as Error).message;
      this.options.onChange(this);
      return;
    }
    if (plan.waitingFor) {
      // Like a pod whose sidecar cannot reach istiod: it stays Pending and tries again.
      if (this.message !== `waiting for ${plan.waitingFor}`) {
        this.message = `waiting for ${plan.waitingFor}`;
        this.plan = plan;
        this.options.onChange(this);
      }
      this.#waitTimer = setTimeout(() => this.#tryPlan(), 250);
      return;
    }
    this.plan = plan;
    this.message = undefined;
    try {
      for (const f of plan.files) {
        mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
        writeFileSync(f.path, f.content, { mode: 0o600 });
      }
    } catch (err) {
      this.message = `cannot write the pod's files: ${(err as Error).message}`;
      this.options.onChange(this);
      return;
    }
    this.phase = 'Running';
    this.initContainers = plan.initContainers.map((c) => this.#container(c, true));
    this.containers = plan.containers.map((c) => this.#container(c));
    if (plan.proxy) this.proxy = this.#container(plan.proxy);
    this.#next();
    this.options.onChange(this);
  }

  /** The pod's startup sequence: each init container to completion, then the proxy, then the apps. */
  #next(): void {
    if (this.#stopped || this.#appsStarted) return;
    const pending = this.initContainers.find((c) => !c.completed);
    if (pending) {
      if (pending.state.kind === 'waiting' && pending.state.reason === 'ContainerCreating') pending.start();
      return;
    }
    if (this.proxy && this.proxy.state.kind === 'waiting' && this.proxy.state.reason === 'ContainerCreating') this.proxy.start();
    if (!this.proxy || this.proxy.ready) this.#startApps();
  }

  #container(planned: PlannedContainer, init = false): Container {
    const network = this.network as PodNetwork;
    // The sidecar runs with Istio's proxy group, which capture rules exempt from redirection.
    const [command, args] = network.wrap(planned.command, planned.args, planned.role === 'sidecar' ? { gid: PROXY_GID } : undefined);
    const env = { ...planned.env, WEFT_POD: `${this.namespace}/${this.name}` };
    const c = new Container({
      name: planned.name, command, args, env,
      ...(planned.readinessProbe ? { readinessProbe: planned.readinessProbe } : {}),
      ...(planned.livenessProbe ? { livenessProbe: planned.livenessProbe } : {}),
      ...(planned.startupProbe ? { startupProbe: planned.startupProbe } : {}),
      graceMs: this.options.graceMs,
      ...(init ? { runToCompletion: true } : {}),
      probeTarget: { address: planned.address, namedPorts: planned.namedPorts, wrap: network.wrap, env },
      logPath: join(this.options.logDir, `${planned.name}.log`),
      onSpawn: this.options.onSpawn,
      ...(planned.problem ? { problem: planned.problem } : {}),
    }, () => this.#changed());
    return c;
  }

  #changed(): void {
    this.#next();
    this.options.onChange(this);
  }

  #startApps(): void {
    if (this.#appsStarted || this.#stopped) return;
    this.#appsStarted = true;
    for (const c of this.containers) c.start();
  }

  #all(): Container[] {
    return this.proxy ? [...this.containers, this.proxy] : this.containers;
  }

  /**
   * Stops the apps, then the proxy (it drains what the apps still send), then frees the network.
   * `delayMs`: how long the pod keeps serving after it left the registry, so that every proxy has
   * its endpoint removal before the processes go (the preStop sleep Kubernetes users add for the
   * same reason); a request in that window still reaches a working pod.
   */
  stop(delayMs = 0): Promise<void> {
    // Stopping again (the runtime shutting down during a rollout's delay) ends the delay now and
    // waits for the same stop, so no container outlives the runtime.
    if (this.#stopping) {
      if (delayMs === 0) this.#endDelay?.();
      return this.#stopping;
    }
    this.#stopping = this.#stop(delayMs);
    return this.#stopping;
  }

  async #stop(delayMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#waitTimer);
    this.phase = 'Terminating';
    this.options.onChange(this);
    if (delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.#endDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all([...this.initContainers, ...this.containers].map((c) => c.stop(this.options.graceMs)));
    await this.proxy?.stop(this.options.graceMs);
    if (this.network) await this.options.network.deletePod(this.network).catch(() => undefined);
    this.phase = 'Stopped';
  }

  /** Every container, in the order the Pod's spec lists them (apps, then istio-proxy for a sidecar). */
  orderedContainers(): Container[] {
    const spec = this.plan?.spec as { containers?: { name: string }[]; initContainers?: { name: string; restartPolicy?: string }[] } | undefined;
    const names = [...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(spec?.containers ?? [])].map((c) => c.name);
    const all = this.#all();
    return names.map((n) => all.find((c) => c.spec.name === n)).filter((c): c is Container => c !== undefined);
  }
}
