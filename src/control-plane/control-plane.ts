/**
 * `weft control-plane`, wired: config sources -> registry -> snapshot -> push server, with the
 * monitoring port beside it. Nothing here decides anything about the mesh; each step is the
 * folder that owns it. What this file does own is the order of events: a source change is taken
 * whole (the source already refused invalid sets), the snapshot is rebuilt once, and the push
 * server is told; its debounce coalesces bursts and it sends a proxy only a config that changed.
 */
import type { Diagnostic } from '../lib/diagnostic.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import type { AnyResource } from '../resources/index.js';
import type { ConfigSource, SourceEvent } from '../sources/index.js';
import { buildRegistry, instancesFromPods, meshOptionsFrom } from '../registry/index.js';
import { buildSnapshot, compileProxyConfig, type Snapshot } from '../compiler/index.js';
import { MetricsRegistry, PushServer, versionConfig, type ProxyStatus } from '../distribution/index.js';
import type { ProxyConfig, ProxyNode } from '../proxy-config/index.js';
import { verifyToken } from './token.js';
import { DEFAULT_WORKLOAD_CERT_TTL_MS, type CertificateAuthority, type IssuedCertificate } from '../ca/index.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { controlPlaneMetrics, type ControlPlaneMetrics } from './metrics.js';

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
  /** Where proxies send spans when meshConfig names no collector: the embedded trace store (`host:port`). */
  defaultZipkinAddress?: string;
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
  readonly #options: ControlPlaneOptions;
  readonly #log: Logger;
  readonly #counters: ControlPlaneMetrics;
  #snapshot: Snapshot | undefined;
  #resources: readonly AnyResource[] = [];
  #lastRejected: RejectedChange | undefined;
  /** Identity of each connected proxy, as it presented itself in its hello; needed to compile a debug dump. */
  readonly #nodes = new Map<string, ProxyNode>();

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#counters = controlPlaneMetrics(this.metrics);
    this.push = new PushServer({
      compile: (node) => this.#compile(node),
      authenticate: (token, node) => this.#authenticate(token, node),
      ...(options.ca ? { sign: (node: ProxyNode, csr: string) => this.#sign(options.ca as CertificateAuthority, node, csr) } : {}),
      replicaId: options.replicaId,
      metrics: this.metrics,
      ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
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
    this.push.on('auth-rejected', (id) => log.warn('proxy not authenticated: bad token', { proxy: id }));
    this.push.on('certificate-issued', (id) => log.debug('workload certificate issued', { proxy: id }));
    this.push.on('certificate-refused', (id, error) => log.warn('certificate request refused', { proxy: id, error }));
  }

  /** Loads every source (each reports its first set before this resolves) and starts watching. */
  async start(): Promise<void> {
    for (const source of this.#options.sources) await source.start((event) => this.#onSourceEvent(source, event));
  }

  async close(): Promise<void> {
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
    this.#resources = resources;
    this.#snapshot = snapshot;
    this.#counters.accepted.inc();
    this.#counters.services.set(snapshot.registry.services.length);
    this.#counters.virtualServices.set(resources.filter((r) => r.kind === 'VirtualService').length);
    this.#log.info('configuration loaded', { source: sourceName, resources: resources.length, services: snapshot.registry.services.length });
    // Every proxy is recompiled; the push server sends only those whose config actually changed.
    this.push.notifyChange('all');
  }

  #compile(node: ProxyNode): ProxyConfig {
    if (!this.#snapshot) throw new Error('no valid configuration has been loaded yet');
    return compileProxyConfig(this.#snapshot, node);
  }

  /** The identity is the node's namespace and service account, both covered by its token. */
  #sign(ca: CertificateAuthority, node: ProxyNode, csr: string): IssuedCertificate {
    const trustDomain = this.#snapshot?.mesh.trustDomain ?? 'cluster.local';
    return ca.signCsr(csr, { trustDomain, namespace: node.namespace, serviceAccount: node.serviceAccount }, this.#options.workloadCertTtlMs ?? DEFAULT_WORKLOAD_CERT_TTL_MS);
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
