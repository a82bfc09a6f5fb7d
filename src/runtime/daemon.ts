/**
 * The local runtime daemon, one per WEFT_HOME (kubelet + API server for one machine): it holds
 * the lock, keeps the store, runs the deployment controller's pods on a network provider,
 * exposes LoadBalancer Services on the host, and answers the CLI on its unix socket. Stopping
 * ends every pod and frees what the network provider created; state on disk stays unless purged.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';
import type { Logger } from '../lib/log.js';
import type { ResourceOf } from '../resources/index.js';
import { loadTokenKey, mintToken } from '../control-plane/token.js';
import { meshRootCert } from '../control-plane/mesh-root.js';
import { refreshPodRootCerts } from './root-cert-refresh.js';
import { weftHome, prepareHome, controlPlaneStateDir, type WeftHome } from './home.js';
import { acquireLock, clearStaleSocket } from './lock.js';
import { Store, resourceKey } from './store.js';
import { PlainNetwork, isServiceNetwork, type NetworkMode, type NetworkProvider, type VirtualService } from './network.js';
import { ControlPlaneServices, PUSH_PORT } from './control-plane-service.js';
import { serviceAddresses } from './service-addresses.js';
import { DeploymentController } from './deployments.js';
import { IngressForwarder, type Backend } from './ingress.js';
import { startApiServer } from './server.js';

export type NetworkChoice = 'auto' | NetworkMode;

export interface DaemonOptions {
  home?: WeftHome;
  network?: NetworkChoice;
  /** Host ports for the ingress Service's 80 and 443 (0 picks free ones); saved in the home's settings. */
  ingressHttpPort?: number;
  ingressHttpsPort?: number;
  log: Logger;
}

export interface Settings {
  network: NetworkChoice;
  ingress: { host: string; http: number; https: number };
}

const DEFAULT_SETTINGS: Settings = { network: 'auto', ingress: { host: '127.0.0.1', http: 8080, https: 8443 } };

export class Daemon {
  readonly home: WeftHome;
  readonly log: Logger;
  readonly startedAt = new Date();
  settings: Settings = DEFAULT_SETTINGS;
  store!: Store;
  network!: NetworkProvider;
  controller!: DeploymentController;
  ingress!: IngressForwarder;
  controlPlaneServices!: ControlPlaneServices;
  readonly #options: DaemonOptions;
  readonly #keys = new Map<string, Buffer>();
  #server: http.Server | undefined;
  #unlock: (() => void) | undefined;
  #stopping: Promise<void> | undefined;
  #onStopped: (() => void) | undefined;
  #servicesTimer: NodeJS.Timeout | undefined;
  #rootCerts: { stop(): void } | undefined;
  #vips: readonly VirtualService[] = [];

  constructor(options: DaemonOptions) {
    this.#options = options;
    this.home = options.home ?? weftHome();
    this.log = options.log;
  }

  get pidsFile(): string {
    return `${this.home.root}/runtime.pids`;
  }

  async start(): Promise<void> {
    prepareHome(this.home);
    this.#unlock = acquireLock(this.home.pidFile, this.home.root);
    try {
      await clearStaleSocket(this.home.socket);
      this.settings = this.#loadSettings();
      this.#killLeftovers();
      this.store = new Store(this.home.store, this.log);
      this.store.load();
      // Pods of an earlier run are not running any more; their objects go, new pods will come.
      for (const r of this.store.all()) if (r.kind === 'Pod') this.store.delete(resourceKey(r));
      if (!this.store.all().some((r) => r.kind === 'Namespace' && r.metadata.name === 'default')) {
        this.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', creationTimestamp: new Date().toISOString() } });
      }
      this.network = await this.#network();
      await this.network.cleanupLeftovers();
      await this.network.setup();
      this.controller = new DeploymentController({
        store: this.store, network: this.network, mode: this.network.mode, log: this.log,
        logsDir: this.home.logs, podsDir: this.home.pods, storeDir: this.home.store,
        controlPlaneStateDir: (rev) => controlPlaneStateDir(this.home, rev),
        caDir: this.home.ca,
        weft: { node: process.execPath, main: fileURLToPath(new URL('../cli/main.js', import.meta.url)) },
        mintToken: (rev, nodeId, sa) => mintToken(this.#key(rev), nodeId, sa),
        meshRootCert: () => meshRootCert(this.home.ca),
        controlPlaneService: (rev) => this.controlPlaneServices.address(rev),
        baseEnv: baseEnv(this.home.meshId),
        onSpawn: (pid) => appendFileSync(this.pidsFile, `${pid}\n`),
        onPodsChanged: () => this.#syncServices(),
      });
      const network = this.network;
      this.controlPlaneServices = new ControlPlaneServices({
        pods: (rev) => this.controller.controlPlaneAddresses(rev),
        allocate: network instanceof PlainNetwork ? () => network.allocateAddress() : undefined,
        serviceVip: (rev) => this.#controlPlaneVip(rev),
        log: this.log,
      });
      this.ingress = new IngressForwarder(
        { host: this.settings.ingress.host, ports: { 80: this.settings.ingress.http, 443: this.settings.ingress.https } },
        this.log, (svc, port) => this.#backends(svc, port));
      this.changed();
      this.#rootCerts = refreshPodRootCerts({ podsDir: this.home.pods, meshRootCert: () => meshRootCert(this.home.ca), onError: (error) => this.log.warn('cannot refresh a pod\'s root-cert.pem', { error }) });
      this.#server = await startApiServer(this, this.home.socket);
      chmodSync(this.home.socket, 0o600);
    } catch (err) {
      // Undo whatever had started (pods, network, listeners) and release the lock.
      await this.stop().catch(() => undefined);
      throw err;
    }
    this.log.info('runtime started', { home: this.home.root, network: this.network.mode, pid: process.pid });
  }

  /** The store changed: pods and host listeners follow. */
  changed(): void {
    this.controller.schedule();
    this.#syncServices();
    void this.ingress.sync(this.store.all().filter((r): r is ResourceOf<'Service'> => r.kind === 'Service'));
  }

  /** Resolves once stopped (by `stop`, from the CLI or a signal). */
  stopped(): Promise<void> {
    return new Promise((resolve) => {
      this.#onStopped = resolve;
    });
  }

  stop(purge = false): Promise<void> {
    this.#stopping ??= this.#stop(purge);
    return this.#stopping;
  }

  async #stop(purge: boolean): Promise<void> {
    this.log.info('runtime stopping', { purge });
    clearTimeout(this.#servicesTimer);
    this.#rootCerts?.stop();
    this.ingress?.close();
    this.controlPlaneServices?.close();
    await this.controller?.stopAll();
    await this.network?.teardown().catch((err: Error) => this.log.error('network teardown failed', { error: err.message }));
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
    // Only a socket this daemon served: a failed start must not remove another daemon's.
    if (this.#server) rmSync(this.home.socket, { force: true });
    rmSync(this.pidsFile, { force: true });
    if (purge) {
      for (const dir of [this.home.store, this.home.logs, this.home.pods, this.home.controlPlanes, this.home.ca]) rmSync(dir, { recursive: true, force: true });
      rmSync(this.home.settings, { force: true });
    }
    this.#unlock?.();
    this.log.info('runtime stopped');
    this.#onStopped?.();
  }

  /**
   * netns only: service names and VIPs for the pods (hosts files, kube-proxy-like DNAT), after
   * a quiet moment so a burst of pod changes (already written to the store) is one update.
   */
  #syncServices(): void {
    const network = this.network;
    if (!isServiceNetwork(network) || this.#servicesTimer || this.#stopping) return;
    this.#servicesTimer = setTimeout(() => {
      this.#servicesTimer = undefined;
      if (this.#stopping) return;
      try {
        const { hosts, services } = serviceAddresses(this.store.all());
        this.#vips = services;
        network.writeHosts(hosts);
        void network.setServices(services).catch((err: Error) => this.log.error('cannot program service addresses', { error: err.message }));
      } catch (err) {
        this.log.error('cannot compute service addresses', { error: (err as Error).message });
      }
    }, 100);
  }

  /** netns: a Service on the push port whose selector matches the revision's control plane pods. */
  #controlPlaneVip(revision: string): string | undefined {
    const labels = [...this.controller.pods.values()]
      .filter((p) => p.plan?.containers.some((c) => c.role === 'control-plane'))
      .map((p) => p.plan?.labels ?? {})
      .filter((l) => (l['istio.io/rev'] === undefined || l['istio.io/rev'] === 'default' ? '' : l['istio.io/rev']) === revision);
    for (const r of this.store.all()) {
      if (r.kind !== 'Service' || !r.spec.ports?.some((p) => p.port === PUSH_PORT)) continue;
      const selector = Object.entries(r.spec.selector ?? {});
      if (selector.length === 0 || !labels.some((l) => selector.every(([k, v]) => l[k] === v))) continue;
      const vip = this.#vips.find((v) => v.name === `${r.metadata.name}.${r.metadata.namespace}`)?.vip;
      if (vip) return vip;
    }
    return undefined;
  }

  #key(revision: string): Buffer {
    let key = this.#keys.get(revision);
    if (!key) {
      key = loadTokenKey(controlPlaneStateDir(this.home, revision));
      this.#keys.set(revision, key);
    }
    return key;
  }

  async #network(): Promise<NetworkProvider> {
    const choice = this.settings.network;
    if (choice === 'netns' || choice === 'auto') {
      const { NetnsNetwork } = await import('./network/index.js');
      const problem = await NetnsNetwork.problem();
      if (!problem) return new NetnsNetwork(this.home.meshId);
      if (choice === 'netns') throw new Error(`--network netns cannot run here: ${problem}`);
      // `auto`: netns where it can run (root on Linux with the capture addon), else plain.
      this.log.info('network namespaces unavailable, using plain networking', { reason: problem });
    }
    return new PlainNetwork(this.home.meshId, this.home.root);
  }

  #backends(svc: ResourceOf<'Service'>, port: number): Backend[] {
    const selector = svc.spec.selector ?? {};
    const sp = svc.spec.ports?.find((p) => p.port === port);
    if (!sp || Object.keys(selector).length === 0) return [];
    const out: Backend[] = [];
    for (const pod of this.controller.pods.values()) {
      if (pod.namespace !== svc.metadata.namespace || !pod.ready || !pod.network || !pod.plan) continue;
      const labels = pod.plan.labels;
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
      let target: number | undefined = typeof sp.targetPort === 'number' ? sp.targetPort : undefined;
      if (typeof sp.targetPort === 'string') {
        for (const c of [...pod.plan.containers, ...(pod.plan.proxy ? [pod.plan.proxy] : [])]) target ??= c.namedPorts.get(sp.targetPort);
      }
      if (target !== undefined) out.push({ address: pod.network.ip, port: target });
    }
    return out;
  }

  #loadSettings(): Settings {
    let saved: Partial<Settings> = {};
    if (existsSync(this.home.settings)) {
      try {
        saved = JSON.parse(readFileSync(this.home.settings, 'utf8')) as Partial<Settings>;
      } catch {
        this.log.warn('settings.json is not valid JSON; using defaults', { file: this.home.settings });
      }
    }
    const o = this.#options;
    const settings: Settings = {
      network: o.network ?? saved.network ?? DEFAULT_SETTINGS.network,
      ingress: {
        host: saved.ingress?.host ?? DEFAULT_SETTINGS.ingress.host,
        http: o.ingressHttpPort ?? saved.ingress?.http ?? DEFAULT_SETTINGS.ingress.http,
        https: o.ingressHttpsPort ?? saved.ingress?.https ?? DEFAULT_SETTINGS.ingress.https,
      },
    };
    writeFileSync(this.home.settings, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    return settings;
  }

  /** Containers of a daemon that crashed: their process groups, if they are still ours. */
  #killLeftovers(): void {
    if (!existsSync(this.pidsFile)) return;
    const marker = `WEFT_MESH=${this.home.meshId}`;
    for (const line of readFileSync(this.pidsFile, 'utf8').split('\n')) {
      const pid = Number(line);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      try {
        // Only a process that carries this mesh's marker: a reused pid belongs to someone else.
        if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) continue;
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone, or not ours to inspect
      }
    }
    rmSync(this.pidsFile, { force: true });
  }
}

/** What every container starts from: enough to find programs and a home, plus this mesh's marker. */
function baseEnv(meshId: string): Record<string, string> {
  const env: Record<string, string> = { WEFT_MESH: meshId };
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'USER']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
