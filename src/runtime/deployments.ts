/**
 * The deployment controller (ReplicaSets folded in): for every Deployment, `replicas` pods of
 * its current template. A template change (including `weft rollout restart`, which stamps an
 * annotation on the template as kubectl does) rolls pods one at a time: a new pod is started,
 * and only once it is ready is an old one stopped; `Recreate` stops the old ones first. Scale
 * changes add or remove pods. Each pod's Kubernetes-shaped object is kept in the store while it
 * runs, so the control plane's registry follows real pods.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { ResourceOf } from '../resources/index.js';
import { injectionRevision } from '../registry/index.js';
import type { Logger } from '../lib/log.js';
import type { NetworkMode, NetworkProvider } from './network.js';
import { Pod } from './pods/pod.js';
import { planPod, runsControlPlane, PROXY_CONTAINER, type PlanInput } from './pods/plan.js';
import { podObject } from './pods/object.js';
import { resourceKey, type Store } from './store.js';
import { TLS_PUSH_PORT } from './control-plane-service.js';

/** Time for a pod's removal to reach every proxy (store -> control plane debounce -> push); see Pod.stop. */
const ENDPOINT_PROPAGATION_MS = 1000;

/** Kubernetes' SafeEncodeString alphabet: no vowels, no look-alike characters. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface ControllerOptions {
  store: Store;
  network: NetworkProvider;
  mode: NetworkMode;
  log: Logger;
  logsDir: string;
  podsDir: string;
  storeDir: string;
  controlPlaneStateDir(revision: string): string;
  caDir: string;
  weft: { node: string; main: string };
  mintToken(revision: string, nodeId: string, serviceAccount: string): string;
  /** The mesh root certificate PEM, for every pod's root-cert.pem; undefined until there is one. */
  meshRootCert(): string | undefined;
  controlPlaneService(revision: string): string | undefined;
  baseEnv: Record<string, string>;
  onSpawn(pid: number): void;
  /** Pods changed readiness or came and went (the ingress forwarder follows). */
  onPodsChanged(): void;
}

export class DeploymentController {
  readonly pods = new Map<string, Pod>();
  readonly #o: ControllerOptions;
  readonly #writeTimers = new Map<string, NodeJS.Timeout>();
  #scheduled: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
  }

  /** Soon, once: many events in one tick make one pass. */
  schedule(): void {
    if (this.#closed || this.#scheduled) return;
    this.#scheduled = setTimeout(() => {
      this.#scheduled = undefined;
      this.reconcile();
    }, 10);
  }

  reconcile(): void {
    if (this.#closed) return;
    const deployments = this.#o.store.all().filter((r): r is ResourceOf<'Deployment'> => r.kind === 'Deployment');
    const wanted = new Set(deployments.map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
    for (const pod of this.pods.values()) {
      if (!wanted.has(`${pod.namespace}/${pod.options.deployment}`)) this.#remove(pod);
    }
    for (const d of deployments) this.#reconcileOne(d);
  }

  #reconcileOne(d: ResourceOf<'Deployment'>): void {
    const hash = templateHash(d);
    const live = [...this.pods.values()].filter((p) => p.namespace === d.metadata.namespace && p.options.deployment === d.metadata.name && p.phase !== 'Terminating' && p.phase !== 'Stopped');
    const current = live.filter((p) => p.options.templateHash === hash);
    const old = live.filter((p) => p.options.templateHash !== hash);
    const replicas = d.spec.paused ? live.length : d.spec.replicas;
    if (old.length > 0 && d.spec.strategy.type === 'Recreate') {
      for (const p of old) this.#remove(p);
      return;
    }
    if (old.length > 0) {
      // Rolling, one at a time: surge one new pod, retire one old pod once it is ready.
      const currentReady = current.filter((p) => p.ready);
      if (current.length < replicas && current.every((p) => p.ready)) this.#create(d, hash);
      if (currentReady.length + old.length > replicas) {
        const victim = old.find((p) => !p.ready) ?? old[0];
        if (victim) this.#remove(victim);
      }
      return;
    }
    for (let n = current.length; n < replicas; n++) this.#create(d, hash);
    if (current.length > replicas) {
      // Scale down: not-ready pods first, then the newest, as the ReplicaSet controller prefers.
      const order = [...current].sort((a, b) => Number(a.ready) - Number(b.ready) || b.createdAt.getTime() - a.createdAt.getTime());
      for (const p of order.slice(0, current.length - replicas)) this.#remove(p);
    }
  }

  #create(d: ResourceOf<'Deployment'>, hash: string): void {
    let name: string;
    do name = `${d.metadata.name}-${hash}-${randomSuffix(5)}`; while (this.pods.has(`${d.metadata.namespace}/${name}`));
    const namespace = d.metadata.namespace;
    const nsLabels = this.#namespaceLabels(namespace);
    const template = d.spec.template;
    const gateway = template.spec.containers.some((c) => c.name === PROXY_CONTAINER && c.image === 'auto');
    const injected = !gateway && !template.spec.containers.some(runsControlPlane) && injectionRevision(template.metadata?.labels ?? {}, template.metadata?.annotations ?? {}, nsLabels, template.spec.hostNetwork) !== undefined;
    const uid = randomUUID();
    const podDir = join(this.#o.podsDir, namespace, name);
    const pod: Pod = new Pod({
      name, namespace, uid, deployment: d.metadata.name, deploymentUid: String(d.metadata.uid ?? ''), templateHash: hash,
      logDir: join(this.#o.logsDir, namespace, name), network: this.#o.network, injected, annotations: template.metadata?.annotations ?? {},
      graceMs: Math.max(0, template.spec.terminationGracePeriodSeconds) * 1000,
      onSpawn: this.#o.onSpawn,
      onChange: (p) => this.#changed(p),
      plan: (network) => {
        // Read at plan time: the namespace labels, services and installs current when the pod starts.
        const resources = this.#o.store.all();
        const input: PlanInput = {
          deployment: d, podName: name, uid, templateHash: hash, namespaceLabels: this.#namespaceLabels(namespace), network, mode: this.#o.mode,
          operators: resources.filter((r): r is ResourceOf<'IstioOperator'> => r.kind === 'IstioOperator'),
          services: resources.filter((r): r is ResourceOf<'Service'> => r.kind === 'Service'),
          storeDir: this.#o.storeDir, controlPlaneStateDir: this.#o.controlPlaneStateDir, caDir: this.#o.caDir, podDir, weft: this.#o.weft,
          controlPlaneAddresses: (rev) => this.controlPlaneAddresses(rev), controlPlaneService: this.#o.controlPlaneService, mintToken: this.#o.mintToken, baseEnv: this.#o.baseEnv,
          controlPlaneSan: (rev) => this.controlPlaneSan(rev), meshRootCert: this.#o.meshRootCert,
        };
        return planPod(input);
      },
    });
    this.pods.set(`${namespace}/${name}`, pod);
    this.#o.log.info('pod created', { pod: `${namespace}/${name}`, deployment: d.metadata.name });
    void pod.start();
  }

  #remove(pod: Pod): void {
    if (pod.phase === 'Terminating' || pod.phase === 'Stopped') return;
    this.#o.log.info('pod stopping', { pod: `${pod.namespace}/${pod.name}` });
    // Terminating first (a Pod with deletionTimestamp, as Kubernetes marks it): it leaves every
    // service's endpoints, so traffic moves away before the processes go, while its own proxy
    // keeps its inbound config for what is still on the way. The object goes once it stopped.
    const stopping = pod.stop(ENDPOINT_PROPAGATION_MS);
    this.#storeNow(pod);
    void stopping.then(() => {
      this.#unstore(pod);
      this.pods.delete(`${pod.namespace}/${pod.name}`);
      this.#o.onPodsChanged();
      this.schedule();
    });
  }

  #changed(pod: Pod): void {
    if (pod.phase === 'Terminating' || pod.phase === 'Stopped') {
      this.#o.onPodsChanged();
      return;
    }
    const key = `${pod.namespace}/${pod.name}`;
    if (!this.#writeTimers.has(key)) {
      // Coalesce bursts (a probe flip and a restart) into one write of the pod's object.
      this.#writeTimers.set(key, setTimeout(() => {
        this.#writeTimers.delete(key);
        if (pod.phase === 'Terminating' || pod.phase === 'Stopped' || this.#closed) return;
        try {
          this.#o.store.put(podObject(pod));
        } catch (err) {
          this.#o.log.error('cannot store pod', { pod: key, error: (err as Error).message });
        }
        // Service addresses are computed from the store: say so again once the pod is in it, or
        // a sync already pending (from another pod) would read the old object and be the last.
        this.#o.onPodsChanged();
      }, 20));
    }
    this.#o.onPodsChanged();
    this.schedule();
  }

  #storeNow(pod: Pod): void {
    const key = `${pod.namespace}/${pod.name}`;
    clearTimeout(this.#writeTimers.get(key));
    this.#writeTimers.delete(key);
    try {
      this.#o.store.put(podObject(pod));
    } catch (err) {
      this.#o.log.error('cannot store pod', { pod: key, error: (err as Error).message });
    }
  }

  #unstore(pod: Pod): void {
    const key = `${pod.namespace}/${pod.name}`;
    clearTimeout(this.#writeTimers.get(key));
    this.#writeTimers.delete(key);
    this.#o.store.delete(resourceKey({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: pod.namespace, name: pod.name } }));
  }

  #namespaceLabels(namespace: string): Record<string, string> {
    return this.#o.store.all().find((r) => r.kind === 'Namespace' && r.metadata.name === namespace)?.metadata.labels ?? {};
  }

  /** `ip:port` of the TLS push port (istiod's 15012) of each running control plane pod of a revision ('' = default). */
  controlPlaneAddresses(revision: string): string[] {
    const out: string[] = [];
    for (const { pod, args } of this.#controlPlanePods(revision)) {
      const i = args.indexOf('--tls-port');
      const port = i >= 0 ? Number(args[i + 1]) : TLS_PUSH_PORT;
      if (pod.network) out.push(`${pod.network.ip}:${port}`);
    }
    return out.sort();
  }

  /** The name Istio's proxies of a revision expect on istiod's certificate: `istiod[-<rev>].<ns>.svc`. */
  controlPlaneSan(revision: string): string {
    const namespace = this.#controlPlanePods(revision)[0]?.pod.namespace ?? 'istio-system';
    return `${revision === '' ? 'istiod' : `istiod-${revision}`}.${namespace}.svc`;
  }

  #controlPlanePods(revision: string): { pod: Pod; args: string[] }[] {
    const out: { pod: Pod; args: string[] }[] = [];
    for (const p of this.pods.values()) {
      if (p.phase !== 'Running' || !p.network || !p.plan) continue;
      const cp = p.plan.containers.find((c) => c.role === 'control-plane');
      const rev = p.plan.labels['istio.io/rev'];
      if (!cp || (rev === undefined || rev === 'default' ? '' : rev) !== revision) continue;
      out.push({ pod: p, args: cp.args });
    }
    return out;
  }

  /** Stops every pod (the daemon is going down). */
  async stopAll(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#scheduled);
    for (const t of this.#writeTimers.values()) clearTimeout(t);
    const pods = [...this.pods.values()];
    for (const p of pods) this.#unstore(p);
    await Promise.all(pods.map((p) => p.stop()));
    this.pods.clear();
  }
}

/** pod-template-hash: stable for a template, different when anything in it changes. */
export function templateHash(d: ResourceOf<'Deployment'>): string {
  const template = (d.raw.spec as { template?: unknown }).template;
  const digest = createHash('sha256').update(JSON.stringify(sortKeys(template))).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[(digest[i] ?? 0) % ALPHABET.length];
  return out;
}

function randomSuffix(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}
