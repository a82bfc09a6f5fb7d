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
import { portSpecs, type Bootstrap } from './bootstrap.js';
import { BoundPorts } from './listeners/ports.js';
import { acceptConnection, handleConnect, type AcceptDeps } from './listeners/accept.js';
import { HttpCodecs } from './http/server.js';
import { startAdminServer, startHealthServer, boundPort, type AdminView } from './admin/admin-server.js';
import { configChannel } from './events.js';
import { Stats } from './stats.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { realSleep, type ProxyServices } from './services.js';
import type { UpstreamPort } from './upstream-port.js';

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
    };
    const b = this.#bootstrap;
    this.#admin = await startAdminServer(view, b.adminAddress, b.ports.admin);
    this.#health = await startHealthServer(view, b.bindAddress, b.ports.health);
  }

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
    return { ...out, ...this.#ports.ports() };
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
      this.services.upstreams.apply(check.config.clusters, check.config.endpoints, check.config.secrets);
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
    const closing = [this.#admin, this.#health].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined));
    this.#admin?.closeAllConnections();
    this.#health?.closeAllConnections();
    await Promise.all(closing);
    this.services.log.info('drained', { forciblyClosed: left });
  }
}
