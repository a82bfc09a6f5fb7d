/**
 * The proxy process's core, in-process: it holds the current config snapshot, binds the ports
 * that config needs, serves admin and health, applies new configs (from a file today, from the
 * control plane's push later: both call `applyConfig`), and drains on shutdown.
 *
 * A config is applied whole or not at all: checked, indexed, its new ports bound, then swapped in
 * with one assignment. Requests in flight keep the snapshot they started with; the next request
 * on any connection, new or kept alive, sees the new one.
 */
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkProxyConfig } from './config-check.js';
import { ConfigSnapshot } from './snapshot.js';
import { INBOUND_UPSTREAM_BIND, portSpecs, withAppAddress, withInboundBind, type Bootstrap } from './bootstrap.js';
import { BoundPorts } from './listeners/ports.js';
import { acceptConnection, handleConnect, type AcceptDeps } from './listeners/accept.js';
import { HttpCodecs } from './http/server.js';
import { startAdminServer, startHealthServer, boundPort, type AdminView } from './admin/admin-server.js';
import { configChannel } from './events.js';
import { Stats } from './stats.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { realSleep, type ProxyServices } from './services.js';
import type { UpstreamPort } from './upstream-port.js';
import { Telemetry } from './telemetry/recorder.js';
import { startMergedMetricsServer, startPrometheusServer } from './telemetry/server.js';
import { handleAppHealth } from './app-health.js';
import { Tracer } from './tracing/tracer.js';
import { startIdleCollector } from './idle-gc.js';

export interface ProxyOptions {
  bootstrap: Bootstrap;
  upstreams: UpstreamPort;
  log?: Logger;
  random?: () => number;
  sleep?: ProxyServices['sleep'];
  /** Called by POST /quitquitquit after the drain (the CLI exits the process). */
  onQuit?: () => void;
  /** Where pushed config comes from (the discovery client's status), shown by the admin port. */
  discovery?: () => unknown;
  /** false: no metrics or access logs (the bench's telemetry-off case). */
  telemetry?: boolean;
  /** Where access log lines go instead of meshConfig.accessLogFile (tests). */
  accessLogSink?: (line: string) => void;
  /** Weft's version, istio_build's `tag`. */
  version?: string;
}

export type ApplyResult = { accepted: true; version: string; warnings: string[] } | { accepted: false; version: string; errors: string[] };

export class Proxy {
  readonly services: ProxyServices;
  readonly #bootstrap: Bootstrap;
  readonly #codecs: HttpCodecs;
  readonly #ports: BoundPorts;
  readonly #deps: AcceptDeps;
  readonly #startedAt = new Date();
  #snapshot: ConfigSnapshot | undefined;
  #lastRejection: { at: string; errors: string[] } | undefined;
  #applying: Promise<unknown> = Promise.resolve();
  #admin: http.Server | undefined;
  #health: http.Server | undefined;
  #stopped: Promise<void> | undefined;
  readonly #onQuit: (() => void) | undefined;
  readonly #discovery: (() => unknown) | undefined;
  /** Istio's metrics and access logs, fed by the proxy's events; undefined when turned off. */
  readonly telemetry: Telemetry | undefined;
  /** Spans of sampled requests and connections, sent to meshConfig's Zipkin address; undefined with telemetry off. */
  readonly tracer: Tracer | undefined;
  #metricsServers: http.Server[] = [];
  #stopIdleCollector: (() => void) | undefined;

  constructor(opts: ProxyOptions) {
    this.#bootstrap = opts.bootstrap;
    this.#onQuit = opts.onQuit;
    this.#discovery = opts.discovery;
    this.services = {
      upstreams: opts.upstreams,
      random: opts.random ?? Math.random,
      sleep: opts.sleep ?? realSleep,
      stats: new Stats(),
      log: opts.log ?? silentLogger,
      newRequestId: randomUUID,
      state: { draining: false },
    };
    this.telemetry = opts.telemetry === false ? undefined : new Telemetry({ origin: this.services, log: this.services.log, ...(opts.accessLogSink ? { accessLogSink: opts.accessLogSink } : {}), ...(opts.version ? { version: opts.version } : {}) });
    this.tracer = opts.telemetry === false ? undefined : new Tracer({ origin: this.services, stats: this.services.stats, log: this.services.log });
    const handlerContext = { services: this.services, current: () => this.#snapshot };
    this.#codecs = new HttpCodecs(handlerContext, opts.bootstrap, (conn, req, socket, head) => handleConnect(this.#deps, conn, req, socket, head));
    this.#deps = { services: this.services, codecs: this.#codecs, current: () => this.#snapshot, inspectTimeoutMs: opts.bootstrap.headersTimeoutMs };
    this.#ports = new BoundPorts((socket: Socket, binding) => {
      this.services.stats.inc('downstream_cx_total');
      this.services.stats.gauge('downstream_cx_active', 1);
      socket.once('close', () => this.services.stats.gauge('downstream_cx_active', -1));
      acceptConnection(this.#deps, socket, binding).catch((err: unknown) => {
        this.services.log.error('connection failed unexpectedly', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        socket.destroy();
      });
    });
  }

  /** Starts the admin and health ports; listeners follow with the first config. */
  async start(): Promise<void> {
    const view: AdminView = {
      snapshot: () => this.#snapshot,
      lastRejection: () => this.#lastRejection,
      stats: this.services.stats,
      clusters: () => this.services.upstreams.snapshot(),
      state: () => this.state,
      ports: () => this.ports(),
      startedAt: this.#startedAt,
      quit: () => void this.drain().then(() => this.#onQuit?.()),
      ...(this.#discovery ? { discovery: this.#discovery } : {}),
      ...(this.telemetry ? { prometheus: () => this.telemetry?.metrics.prometheus() ?? '' } : {}),
    };
    const b = this.#bootstrap;
    this.#admin = await startAdminServer(view, b.adminAddress, b.ports.admin);
    this.#health = await startHealthServer(view, b.bindAddress, b.ports.health);
    await this.#startMetricsPorts();
    const stats = this.services.stats;
    this.#stopIdleCollector = startIdleCollector({ activity: () => stats.get('downstream_cx_total') + stats.get('downstream_rq_total') });
  }

  /**
   * 15090 and 15020. A port that cannot be bound is logged and left out: metrics are not worth
   * refusing traffic for (two proxies sharing a host would otherwise fight over 15090).
   */
  async #startMetricsPorts(): Promise<void> {
    const telemetry = this.telemetry;
    if (!telemetry) return;
    const b = this.#bootstrap;
    const source = telemetry.metrics;
    const app = b.appMetrics ? { address: appHost(b), port: b.appMetrics.port, path: b.appMetrics.path } : undefined;
    const wanted: [string, number | undefined, () => Promise<http.Server>][] = [
      ['prometheus', b.ports.prometheus, () => startPrometheusServer(source, b.bindAddress, b.ports.prometheus ?? 0)],
      ['status', b.ports.status, () => startMergedMetricsServer(source, app, b.bindAddress, b.ports.status ?? 0, (error) => this.services.log.warn('app metrics not merged', { error }), (req, res) => handleAppHealth(req, res, b.appProbers ?? {}, appHost(b), b.interceptionMode === 'REDIRECT' ? INBOUND_UPSTREAM_BIND : undefined))],
    ];
    for (const [name, port, start] of wanted) {
      if (port === undefined) continue;
      try {
        const server = await start();
        this.#metricsServers.push(server);
        this.#metricsPorts[name] = boundPort(server);
      } catch (err) {
        this.services.log.warn(`${name} metrics port not served`, { port, error: (err as Error).message });
      }
    }
  }

  readonly #metricsPorts: Record<string, number> = {};

  get state(): 'PRE_INITIALIZING' | 'LIVE' | 'DRAINING' {
    if (this.services.state.draining) return 'DRAINING';
    return this.#snapshot ? 'LIVE' : 'PRE_INITIALIZING';
  }

  get snapshot(): ConfigSnapshot | undefined {
    return this.#snapshot;
  }

  /** Bound ports: `admin`, `health`, and one per listener binding (`outbound`, `gateway:80`, ...). */
  ports(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.#admin?.listening) out.admin = boundPort(this.#admin);
    if (this.#health?.listening) out.health = boundPort(this.#health);
    return { ...out, ...this.#metricsPorts, ...this.#ports.ports() };
  }

  /** Applies a config (parsed JSON) whole, or rejects it and keeps the last good one. Serialized. */
  applyConfig(value: unknown): Promise<ApplyResult> {
    const next = this.#applying.then(() => this.#apply(value));
    this.#applying = next.catch(() => undefined);
    return next;
  }

  async #apply(value: unknown): Promise<ApplyResult> {
    const version = typeof value === 'object' && value !== null && 'version' in value ? String(value.version) : '';
    const reject = (errors: string[]): ApplyResult => {
      this.#lastRejection = { at: new Date().toISOString(), errors };
      this.services.stats.inc('config_rejected');
      this.services.log.warn('config rejected; keeping the last good one', { version, lastGood: this.#snapshot?.version ?? '(none)', errors: errors.join('; ') });
      configChannel.publish({ version, accepted: false, errors });
      return { accepted: false, version, errors };
    };
    if (this.services.state.draining) return reject(['the proxy is draining']);
    const check = checkProxyConfig(value);
    if (!check.ok) return reject(check.errors);
    const snapshot = new ConfigSnapshot(check.config, new Date());
    let ports: Awaited<ReturnType<BoundPorts['prepare']>>;
    try {
      ports = await this.#ports.prepare(portSpecs(this.#bootstrap, snapshot));
    } catch (err) {
      return reject([(err as Error).message]);
    }
    try {
      this.services.upstreams.apply(withInboundBind(this.#bootstrap, check.config.clusters), withAppAddress(this.#bootstrap, check.config.endpoints), check.config.secrets);
    } catch (err) {
      ports.abort();
      return reject([`upstreams: ${(err as Error).message}`]);
    }
    ports.commit();
    this.#snapshot = snapshot;
    this.services.stats.inc('config_applied');
    for (const w of check.warnings) this.services.log.warn(w, { version });
    this.services.log.info('config applied', { version, listeners: check.config.listeners.length, routes: check.config.routes.length, clusters: check.config.clusters.length });
    configChannel.publish({ version, accepted: true, errors: [] });
    return { accepted: true, version, warnings: check.warnings };
  }

  /**
   * Graceful shutdown: stop accepting, tell keep-alive clients to go (`connection: close`, GOAWAY),
   * let in-flight requests finish for up to `timeoutMs`, then close whatever is left.
   */
  drain(timeoutMs = this.#bootstrap.drainTimeoutMs): Promise<void> {
    this.#stopped ??= this.#drain(timeoutMs);
    return this.#stopped;
  }

  async #drain(timeoutMs: number): Promise<void> {
    this.services.state.draining = true;
    this.#stopIdleCollector?.();
    this.services.log.info('draining', { openConnections: this.#ports.openConnections, timeoutMs });
    await this.#ports.stopAccepting();
    this.#codecs.drain();
    const deadline = Date.now() + timeoutMs;
    while (this.#ports.openConnections > 0 && Date.now() < deadline) {
      this.#codecs.drain();
      await new Promise((r) => setTimeout(r, 25));
    }
    const left = this.#ports.openConnections;
    this.#ports.destroyConnections();
    this.#codecs.close();
    await this.services.upstreams.close();
    this.telemetry?.close();
    await this.tracer?.close();
    const closing = [this.#admin, this.#health, ...this.#metricsServers].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined));
    this.#admin?.closeAllConnections();
    this.#health?.closeAllConnections();
    for (const s of this.#metricsServers) s.closeAllConnections();
    await Promise.all(closing);
    this.services.log.info('drained', { forciblyClosed: left });
  }
}

/** Where the app listens for the metrics scrape: its own address when the bootstrap names one, else the pod's. */
function appHost(b: Bootstrap): string {
  const host = b.appAddress ?? b.bindAddress;
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
