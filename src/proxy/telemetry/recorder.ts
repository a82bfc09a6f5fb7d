/**
 * The proxy-side recorder: subscribes to the request and connection events the proxy publishes
 * (events.ts) and turns them into Istio's metrics and, when the mesh config turns them on,
 * access log lines. The request path never calls it: it only publishes, and an event is only
 * built while someone listens. Several proxies may share a process (tests), so a recorder keeps
 * to the events of its own proxy (`origin`).
 *
 * Telemetry's CEL (access-log filters, metric tag values) needs cel.ts, loaded the first time a
 * config uses an expression; events that arrive while it loads wait for it (milliseconds), so a
 * proxy without expressions never loads it and pays nothing per request.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { MeshRuntimeConfig } from '../../proxy-config/index.js';
import { connectionChannel, connectionOpenChannel, requestChannel, type ConnectionEvent, type ConnectionOpenEvent, type RequestEvent } from '../events.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { IstioMetrics } from './metrics.js';
import { accessLogFormatter, type LogEntry } from './access-log.js';

type Cel = typeof import('./cel.js');

/** Events held while cel.ts loads: past this many, the oldest wait is cut short (they are dropped). */
const MAX_PENDING = 10_000;

function usesCel(mesh: MeshRuntimeConfig): boolean {
  return mesh.metrics !== undefined || (mesh.accessLogs !== undefined && mesh.accessLogs.some((l) => l.filter !== undefined));
}

export interface TelemetryOptions {
  /** The proxy whose events to record (its services object, as events carry it). */
  origin: object;
  /** Where access log lines go; default: meshConfig.accessLogFile (`/dev/stdout`, `/dev/stderr` or a file). */
  accessLogSink?: (line: string) => void;
  log?: Logger;
  /** istio_build's `tag`. */
  version?: string;
  /** Histogram buckets (the `sidecar.istio.io/statsHistogramBuckets` override); Envoy's defaults otherwise. */
  buckets?: readonly number[];
}

type AccessLogSettings = NonNullable<MeshRuntimeConfig['accessLog']>;

export class Telemetry {
  readonly metrics: IstioMetrics;
  readonly #origin: object;
  readonly #log: Logger;
  readonly #sink: ((line: string) => void) | undefined;
  readonly #formatters = new WeakMap<AccessLogSettings, (entry: LogEntry) => string>();
  readonly #files = new Map<string, WriteStream>();
  #cel: Cel | undefined;
  #celState: 'idle' | 'loading' | 'failed' = 'idle';
  #pending: (() => void)[] = [];
  /** Expressions that do not parse: said once each. */
  readonly #badExpressions = new Set<string>();
  readonly #onRequest = (message: unknown): void => this.#request(message as RequestEvent);
  readonly #onConnection = (message: unknown): void => this.#connection(message as ConnectionEvent);
  readonly #onOpen = (message: unknown): void => {
    const ev = message as ConnectionOpenEvent;
    if (ev.origin === this.#origin) this.metrics.openConnection(ev, ev, ev.bytes);
  };

  constructor(opts: TelemetryOptions) {
    this.#origin = opts.origin;
    this.#log = opts.log ?? silentLogger;
    this.#sink = opts.accessLogSink;
    this.metrics = new IstioMetrics({ ...(opts.buckets ? { buckets: opts.buckets } : {}), ...(opts.version ? { version: opts.version } : {}) });
    requestChannel.subscribe(this.#onRequest);
    connectionChannel.subscribe(this.#onConnection);
    connectionOpenChannel.subscribe(this.#onOpen);
  }

  close(): void {
    requestChannel.unsubscribe(this.#onRequest);
    connectionChannel.unsubscribe(this.#onConnection);
    connectionOpenChannel.unsubscribe(this.#onOpen);
    for (const f of this.#files.values()) f.end();
    this.#files.clear();
    this.#pending = [];
  }

  /** Runs `fn` once cel.ts is loaded (or failed to load). */
  #afterCel(fn: () => void): void {
    if (this.#pending.length >= MAX_PENDING) this.#pending.shift();
    this.#pending.push(fn);
    if (this.#celState === 'loading') return;
    this.#celState = 'loading';
    import('./cel.js').then(
      (cel) => {
        this.#cel = cel;
        this.#celState = 'idle';
      },
      (err: Error) => {
        this.#celState = 'failed';
        this.#log.error('CEL could not be loaded: access-log filters match nothing, tag overrides print "unknown"', { error: err.message });
      },
    ).finally(() => {
      const pending = this.#pending;
      this.#pending = [];
      for (const f of pending) f();
    });
  }

  /** A compiled expression, or undefined (reported once) when it cannot be evaluated. */
  #expression(text: string): import('./cel.js').Expression | undefined {
    const e = this.#cel?.compile(text);
    if (e === undefined || e instanceof Error) {
      if (!this.#badExpressions.has(text)) {
        this.#badExpressions.add(text);
        this.#log.error('Telemetry expression not usable', { expression: text, error: e?.message ?? 'CEL not loaded' });
      }
      return undefined;
    }
    return e;
  }

  /** The tag-value evaluator for one event (attributes built at most once, on first use). */
  #tagValues(attributes: () => Record<string, unknown>): (expression: string) => string {
    let attrs: Record<string, unknown> | undefined;
    return (text) => {
      const e = this.#expression(text);
      if (!e || !this.#cel) return 'unknown';
      return this.#cel.tagValue(e, (attrs ??= attributes()));
    };
  }

  #request(ev: RequestEvent): void {
    if (ev.origin !== this.#origin) return;
    if (this.#cel === undefined && this.#celState !== 'failed' && usesCel(ev.config.mesh)) return this.#afterCel(() => this.#request(ev));
    try {
      this.metrics.recordRequest({
        config: ev.config,
        direction: ev.direction,
        cluster: ev.cluster,
        route: ev.route,
        authority: ev.authority,
        peerPrincipal: ev.peerPrincipal,
        downstreamPeer: ev.downstreamPeer,
        upstreamPeer: ev.upstreamPeer,
        upstreamEndpoint: ev.upstreamEndpoint,
        grpc: ev.grpc,
        status: ev.status,
        grpcStatus: ev.grpcStatus,
        flags: ev.flags,
        durationMs: ev.durationMs,
        requestBytes: ev.bytesReceived,
        responseBytes: ev.bytesSent,
        // A plain property, not a spread: the sample stays a fast object literal on the hot path.
        tagValue: ev.config.mesh.metrics !== undefined ? this.#tagValues(() => this.#cel?.requestAttributes(ev) ?? {}) : undefined,
      });
      this.#accessLog(ev.config.mesh, ev.direction, { kind: 'http', event: ev });
    } catch (err) {
      // Telemetry must never take a request down with it.
      this.#log.error('telemetry failed to record a request', { error: (err as Error).message });
    }
  }

  #connection(ev: ConnectionEvent): void {
    if (ev.origin !== this.#origin) return;
    if (this.#cel === undefined && this.#celState !== 'failed' && usesCel(ev.config.mesh)) return this.#afterCel(() => this.#connection(ev));
    try {
      this.metrics.recordConnection({
        config: ev.config,
        direction: ev.direction,
        cluster: ev.cluster,
        peerPrincipal: ev.peerPrincipal,
        downstreamPeer: ev.downstreamPeer,
        upstreamPeer: ev.upstreamPeer,
        upstreamEndpoint: ev.upstreamEndpoint,
        flags: ev.flags,
        bytesReceived: ev.bytesReceived,
        bytesSent: ev.bytesSent,
        opened: ev.opened,
      });
      this.#accessLog(ev.config.mesh, ev.direction, { kind: 'tcp', event: ev });
    } catch (err) {
      this.#log.error('telemetry failed to record a connection', { error: (err as Error).message });
    }
  }

  /**
   * Telemetry resources' access logs (`accessLogs`, per side: inbound is the server side) replace
   * the meshConfig one (`accessLog`) when the control plane sends them.
   */
  #accessLog(mesh: MeshRuntimeConfig, direction: RequestEvent['direction'], entry: LogEntry): void {
    const logs = mesh.accessLogs;
    if (logs === undefined) {
      if (mesh.accessLog) this.#write(mesh.accessLog, entry);
      return;
    }
    const side = direction === 'inbound' ? 'SERVER' : 'CLIENT';
    let attributes: Record<string, unknown> | undefined;
    for (const settings of logs) {
      if (settings.mode !== undefined && settings.mode !== side) continue;
      if (settings.filter !== undefined) {
        const e = this.#expression(settings.filter);
        if (!e || !this.#cel) continue;
        attributes ??= entry.kind === 'http' ? this.#cel.requestAttributes(entry.event) : this.#cel.connectionAttributes(entry.event);
        if (!this.#cel.matches(e, attributes)) continue;
      }
      this.#write(settings, entry);
    }
  }

  #write(settings: AccessLogSettings, entry: LogEntry): void {
    let format = this.#formatters.get(settings);
    if (!format) {
      format = accessLogFormatter(settings, (op) => this.#log.warn('access log format: unsupported operator prints "-"', { operator: op }));
      this.#formatters.set(settings, format);
    }
    const line = format(entry);
    if (this.#sink) return this.#sink(line);
    const file = settings.file ?? '/dev/stdout';
    if (file === '/dev/stdout') process.stdout.write(line);
    else if (file === '/dev/stderr') process.stderr.write(line);
    else this.#file(file).write(line);
  }

  #file(path: string): WriteStream {
    let f = this.#files.get(path);
    if (!f) {
      f = createWriteStream(path, { flags: 'a' });
      f.on('error', (err) => this.#log.error('access log file cannot be written', { path, error: err.message }));
      this.#files.set(path, f);
    }
    return f;
  }
}
