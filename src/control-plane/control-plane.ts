/**
 * `weft control-plane`, wired: config sources -> registry -> snapshot -> push server, with the
 * monitoring port beside it. Nothing here decides anything about the mesh; each step is the
 * folder that owns it. What this file does own is the order of events: a source change is taken
 * whole (the source already refused invalid sets), the snapshot is rebuilt once, the change is
 * diffed against the previous snapshot, and the push server is told which proxies it can affect;
 * only those are recompiled (the others keep their config and version), its debounce coalesces
 * bursts, and it sends a proxy only a config that changed.
 */
import type { Diagnostic } from '../lib/diagnostic.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import type { AnyResource } from '../resources/index.js';
import type { ConfigSource, SourceEvent } from '../sources/index.js';
import { buildRegistry, instancesFromPods, meshOptionsFrom } from '../registry/index.js';
import { buildSnapshot, compileProxyConfig, describeChange, isEmptyChange, proxyAffected, type Snapshot } from '../compiler/index.js';
import { MetricsRegistry, PushServer, versionConfig, type ProxyStatus } from '../distribution/index.js';
import type { ProxyConfig, ProxyNode } from '../proxy-config/index.js';
import { verifyToken } from './token.js';
import { DEFAULT_WORKLOAD_CERT_TTL_MS, type CertificateAuthority, type IssuedCertificate } from '../ca/index.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { controlPlaneMetrics, type ControlPlaneMetrics } from './metrics.js';
import { GraphCollector, type ScrapeTarget } from '../telemetry/graph/index.js';
import { ServingCertificate, type ServingNames } from './serving-certificate.js';
import { MeshCertificates, waitForAcks } from './certificates.js';

export interface ControlPlaneOptions {
  sources: readonly ConfigSource[];
  replicaId: string;
  /** The HMAC key proxies' tokens are minted with (`loadTokenKey`). */
  tokenKey: Buffer;
  log?: Logger;
  /** The push debounce (Istio's PILOT_DEBOUNCE_AFTER); default 100 ms. */
  debounceMs?: number;
  /** This control plane's revision ('' or `default`: the default); it reads that revision's IstioOperator. */
  revision?: string;
  /** Signs proxies' CSRs; without one, proxies get no workload certificates (mesh traffic stays plaintext). */
  ca?: CertificateAuthority;
  /** Workload certificate lifetime; default 24 h (Istio's DEFAULT_WORKLOAD_CERT_TTL). */
  workloadCertTtlMs?: number;
  /**
   * When the CA changes (replaceCa), how long the new trust bundle is pushed before the new CA
   * signs: at least `min` (default 2 s), at most `max` (default 30 s) waiting for every proxy's ACK.
   */
  caChangeWaitMs?: { min: number; max: number };
  /** Lifetime of this replica's serving certificate on the TLS push port; default the workload certificates'. */
  servingCertTtlMs?: number;
  /** Where proxies send spans when meshConfig names no collector: the embedded trace store (`host:port`). */
  defaultZipkinAddress?: string;
  /** How often the service graph scrapes every connected proxy's metrics; default 5 s, 0 never. */
  graphScrapeIntervalMs?: number;
  /**
   * Which proxies a change recompiles: `affected` (default) only those whose config it can change
   * (compiler/dependencies.ts), `all` every connected proxy (the benchmark's baseline, and a way out
   * should a scoping rule ever prove wrong).
   */
  recompile?: 'affected' | 'all';
}

/** A change a source refused: the set stays what it was. */
export interface RejectedChange {
  source: string;
  /** ISO time. */
  at: string;
  errors: readonly Diagnostic[];
  /** True while this is the latest word of its source (the files on disk are still invalid). */
  active: boolean;
}

export class ControlPlane {
  readonly metrics = new MetricsRegistry();
  readonly push: PushServer;
  /** The live service graph, from the connected proxies' metrics (`/debug/graph`). */
  readonly graph: GraphCollector;
  readonly #options: ControlPlaneOptions;
  readonly #log: Logger;
  readonly #counters: ControlPlaneMetrics;
  #snapshot: Snapshot | undefined;
  #resources: readonly AnyResource[] = [];
  #lastRejected: RejectedChange | undefined;
  /** Identity of each connected proxy, as it presented itself in its hello; needed to compile a debug dump. */
  readonly #nodes = new Map<string, ProxyNode>();
  #serving: ServingCertificate | undefined;
  readonly #certificates: MeshCertificates | undefined;

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#counters = controlPlaneMetrics(this.metrics);
    if (options.ca) {
      const wait = options.caChangeWaitMs ?? { min: 2_000, max: 30_000 };
      const certificates = new MeshCertificates(options.ca, { propagated: () => waitForAcks(() => this.push.proxies(), { minMs: wait.min, maxMs: wait.max }) });
      certificates.on('bundle', () => {
        this.#log.info('trust bundle changed; pushing it to every proxy', { roots: certificates.trustBundle().split('BEGIN CERTIFICATE').length - 1 });
        this.#serving?.refreshRoots();
        this.push.notifyChange('all');
      });
      certificates.on('signer', () => {
        this.#serving?.reissue();
        this.push.notifyChange('all');
      });
      certificates.on('settled', (ca, signerChanged) => this.#log.info('certificate authority change complete', {
        signer: ca.signingCertificate.subject.replace(/\n/g, ', ') || '(empty subject)', roots: ca.roots.length, signerChanged,
      }));
      this.#certificates = certificates;
    }
    this.push = new PushServer({
      compile: (node) => this.#compile(node),
      authenticate: (token, node) => this.#authenticate(token, node),
      authenticateCertificate: (identity, node) => this.#authenticateCertificate(identity.trustDomain, node),
      ...(this.#certificates ? { sign: (node: ProxyNode, csr: string) => this.#sign((this.#certificates as MeshCertificates).signer(), node, csr) } : {}),
      replicaId: options.replicaId,
      metrics: this.metrics,
      ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    });
    this.graph = new GraphCollector({
      targets: () => this.#scrapeTargets(),
      intervalMs: options.graphScrapeIntervalMs ?? 5_000,
      isExternal: (host) => this.#snapshot?.registry.servicesByHost(host).some((s) => s.location === 'MESH_EXTERNAL') ?? false,
      log: this.#log,
    });
    const log = this.#log;
    this.push.on('connected', (s) => log.info('proxy connected', { proxy: s.nodeId, role: s.role }));
    this.push.on('disconnected', (id, reason) => {
      if (!this.push.proxies().some((p) => p.nodeId === id)) this.#nodes.delete(id);
      log.info('proxy disconnected', { proxy: id, reason });
    });
    this.push.on('pushed', (id, version) => log.debug('config pushed', { proxy: id, version }));
    this.push.on('ack', (id, version) => log.info('config acknowledged', { proxy: id, version }));
    this.push.on('nack', (id, version, error) => log.warn('config rejected by proxy', { proxy: id, version, error }));
    this.push.on('config-error', (id, error) => log.error('cannot build config; proxy keeps its last one', { proxy: id, error }));
    this.push.on('auth-rejected', (id, reason) => log.warn('proxy not authenticated', { proxy: id, reason }));
    this.push.on('certificate-issued', (id) => log.debug('workload certificate issued', { proxy: id }));
    this.push.on('certificate-refused', (id, error) => log.warn('certificate request refused', { proxy: id, error }));
  }

  /** Loads every source (each reports its first set before this resolves) and starts watching. */
  async start(): Promise<void> {
    for (const source of this.#options.sources) await source.start((event) => this.#onSourceEvent(source, event));
    this.graph.start();
  }

  /**
   * Serves the push stream over TLS too (istiod's 15012), with a serving certificate for `names`
   * from this control plane's CA; proxies may then authenticate with their workload certificate.
   */
  listenSecure(port: number, host: string, names: ServingNames): Promise<number> {
    const certificates = this.#certificates;
    if (!certificates) return Promise.reject(new Error('the TLS push port needs a certificate authority'));
    this.#serving?.stop();
    const serving = new ServingCertificate(() => certificates.signer(), names, this.#options.servingCertTtlMs ?? this.#options.workloadCertTtlMs ?? DEFAULT_WORKLOAD_CERT_TTL_MS, this.#log, () => certificates.trustBundle());
    this.#serving = serving;
    serving.start((material) => this.push.renewServingCertificate(material));
    return this.push.listenSecure(port, host, serving.current());
  }

  /**
   * Takes a new CA (cacerts reloaded, self-signed root rotated): its roots are trusted and pushed
   * first, and it signs once the proxies have them (certificates.ts). Resolves when it signs.
   */
  replaceCa(next: CertificateAuthority): Promise<void> {
    if (!this.#certificates) return Promise.reject(new Error('this control plane has no certificate authority'));
    return this.#certificates.replace(next);
  }

  /** The CA signing now and the trust bundle proxies are given (undefined without a CA). */
  certificateAuthority(): { signer: CertificateAuthority; trustBundle: string } | undefined {
    return this.#certificates ? { signer: this.#certificates.signer(), trustBundle: this.#certificates.trustBundle() } : undefined;
  }

  /** The serving certificate's PEM chain on the TLS push port (undefined when not served). */
  servingCertificate(): string | undefined {
    return this.#serving?.current().cert;
  }

  async close(): Promise<void> {
    this.#serving?.stop();
    this.graph.stop();
    for (const source of this.#options.sources) source.stop();
    await this.push.close();
  }

  /** Ready once a valid set has been loaded: before that there is nothing safe to send. */
  ready(): boolean {
    return this.#snapshot !== undefined;
  }

  replicaId(): string {
    return this.#options.replicaId;
  }

  /** Where the configuration comes from (`files:/etc/weft`, `kubernetes:https://...`), for /debug/syncz. */
  sourceNames(): string[] {
    return this.#options.sources.map((s) => s.name);
  }

  proxies(): ProxyStatus[] {
    return this.push.proxies();
  }

  lastRejected(): RejectedChange | undefined {
    return this.#lastRejected;
  }

  resourceCount(): number {
    return this.#resources.length;
  }

  /**
   * What a connected proxy is given now, versioned as the push server versions it, with secret
   * material redacted. Undefined for a proxy not connected to this replica.
   */
  configDump(proxyId: string): ProxyConfig | undefined {
    const node = this.#nodes.get(proxyId);
    if (!node || !this.push.proxies().some((p) => p.nodeId === proxyId)) return undefined;
    const config = this.#compile(node);
    return redact({ ...config, version: versionConfig(config).version });
  }

  /** Every connected proxy's metrics port on its node ip: the port its hello named, else Istio's 15090. */
  #scrapeTargets(): ScrapeTarget[] {
    return this.push.connectedNodes().map(({ node, prometheusPort }) => {
      const port = prometheusPort ?? 15090;
      const host = node.ip === '0.0.0.0' || node.ip === '' ? '127.0.0.1' : node.ip;
      return { id: node.id, host, port, address: `${host.includes(':') ? `[${host}]` : host}:${port}`, namespace: node.namespace, workload: node.workload, role: node.role };
    });
  }

  #onSourceEvent(source: ConfigSource, event: SourceEvent): void {
    if (event.type === 'rejected') {
      this.#reject(source.name, event.errors);
      return;
    }
    if (this.#lastRejected?.source === source.name) this.#lastRejected.active = false;
    this.#counters.errors.set(0);
    for (const w of event.warnings) this.#log.warn('config warning', { source: source.name, diagnostic: formatDiagnostic(w) });
    this.#rebuild(source.name);
  }

  #reject(source: string, errors: readonly Diagnostic[]): void {
    this.#lastRejected = { source, at: new Date().toISOString(), errors, active: true };
    this.#counters.rejected.inc();
    this.#counters.errors.set(errors.length);
    this.#log.error('config change rejected; keeping the last valid configuration', { source, errors: errors.length });
    for (const d of errors) this.#log.error(formatDiagnostic(d), { source });
  }

  #rebuild(sourceName: string): void {
    // Sources are merged in order; each source already validated its own set.
    const resources = this.#options.sources.flatMap((s) => s.current());
    let snapshot: Snapshot;
    try {
      const mesh = meshOptionsFrom(resources, this.#options.revision);
      if (mesh.tracing && mesh.tracing.zipkinAddress === undefined && this.#options.defaultZipkinAddress) mesh.tracing = { ...mesh.tracing, zipkinAddress: this.#options.defaultZipkinAddress };
      // Workload instances: the ready Pods the local runtime writes to its store (WorkloadEntries
      // are part of the resources). Never derived from Deployments here: those addresses are not real.
      const registry = buildRegistry(resources, instancesFromPods(resources), mesh);
      snapshot = buildSnapshot(resources, registry, mesh);
    } catch (err) {
      // A bug in indexing must not reach proxies: treat it like an invalid change.
      const message = err instanceof Error ? err.message : String(err);
      this.#reject(sourceName, [{ code: 'IST0001', level: 'Error', message: `Internal error: ${message}` }]);
      return;
    }
    const previous = this.#snapshot ? { snapshot: this.#snapshot, resources: this.#resources } : undefined;
    this.#resources = resources;
    this.#snapshot = snapshot;
    this.#counters.accepted.inc();
    this.#counters.services.set(snapshot.registry.services.length);
    this.#counters.virtualServices.set(resources.filter((r) => r.kind === 'VirtualService').length);
    this.#log.info('configuration loaded', { source: sourceName, resources: resources.length, services: snapshot.registry.services.length });
    this.#notify(previous, snapshot, resources);
  }

  /** Tells the push server which proxies to recompile: those the change can affect, or all when unsure. */
  #notify(previous: { snapshot: Snapshot; resources: readonly AnyResource[] } | undefined, snapshot: Snapshot, resources: readonly AnyResource[]): void {
    if (!previous || this.#options.recompile === 'all') {
      this.push.notifyChange('all');
      return;
    }
    try {
      const change = describeChange(previous.snapshot, snapshot, previous.resources, resources);
      if (isEmptyChange(change)) return;
      // Decided now, over the proxies connected now: a proxy that connects later is compiled on
      // connect from a snapshot that already has this change, and the debounce window then holds
      // a set of ids rather than two snapshots per change.
      const affected = new Set(this.push.connectedNodes().filter(({ node }) => proxyAffected(change, node)).map(({ node }) => node.id));
      if (affected.size > 0) this.push.notifyChange((node) => affected.has(node.id));
    } catch (err) {
      // Scoping is an optimisation: when it fails, recompiling everyone is always correct.
      this.#log.warn('cannot scope the change; recompiling every proxy', { error: err instanceof Error ? err.message : String(err) });
      this.push.notifyChange('all');
    }
  }

  #compile(node: ProxyNode): ProxyConfig {
    if (!this.#snapshot) throw new Error('no valid configuration has been loaded yet');
    // The push server hashes the JSON it sends; the compiler's own hash would be computed and dropped.
    const config = compileProxyConfig(this.#snapshot, node, { version: false });
    return this.#certificates ? this.#certificates.attach(config) : config;
  }

  /** The identity is the node's namespace and service account, both covered by its token. */
  #sign(ca: CertificateAuthority, node: ProxyNode, csr: string): IssuedCertificate {
    const trustDomain = this.#snapshot?.mesh.trustDomain ?? 'cluster.local';
    return ca.signCsr(csr, { trustDomain, namespace: node.namespace, serviceAccount: node.serviceAccount }, this.#options.workloadCertTtlMs ?? DEFAULT_WORKLOAD_CERT_TTL_MS);
  }

  /** The push server matched namespace and service account; the node id and trust domain are checked here. */
  #authenticateCertificate(trustDomain: string, node: ProxyNode): boolean {
    if (!node.id.endsWith(`.${node.namespace}`) || node.namespace === '') return false;
    if (trustDomain !== (this.#snapshot?.mesh.trustDomain ?? 'cluster.local')) return false;
    this.#nodes.set(node.id, node);
    return true;
  }

  #authenticate(token: string, node: ProxyNode): boolean {
    // The node id is `<pod>.<namespace>`: the token binds the id, and this binds the namespace the
    // hello claims to it, so the identity (namespace + service account) is the one the token covers.
    if (!node.id.endsWith(`.${node.namespace}`) || node.namespace === '') return false;
    if (!verifyToken(this.#options.tokenKey, token, node.id, node.serviceAccount)) return false;
    this.#nodes.set(node.id, node);
    return true;
  }
}

const REDACTED = '[redacted]';

function redact(config: ProxyConfig): ProxyConfig {
  return {
    ...config,
    secrets: config.secrets.map((s) => ({
      ...s,
      ...(s.certificateChain !== undefined ? { certificateChain: REDACTED } : {}),
      ...(s.privateKey !== undefined ? { privateKey: REDACTED } : {}),
      ...(s.trustedCa !== undefined ? { trustedCa: REDACTED } : {}),
    })),
  };
}
