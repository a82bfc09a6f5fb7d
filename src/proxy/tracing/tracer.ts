/**
 * The proxy's tracer: subscribes to its own proxy's request and connection events (events.ts),
 * turns the sampled ones into Zipkin spans, adds Telemetry's custom tags, and hands them to the
 * reporter for the collector the side's tracing settings name (a Zipkin address or an OTLP/HTTP
 * exporter). The request path only decided the span and its ids (request.ts); building and sending
 * happen here, after the response.
 */
import { connectionChannel, requestChannel, type ConnectionEvent, type RequestEvent } from '../events.js';
import type { Stats } from '../stats.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { connectionSpan, requestSpan, type ZipkinSpan } from './span.js';
import { ZipkinReporter } from './reporter.js';
import { tracingSettings } from './request.js';
import type { TracingSettings } from '../../proxy-config/index.js';
import { compileFormat, formatText, type LogEntry } from '../telemetry/access-log.js';

export interface TracerOptions {
  /** The proxy whose events to trace (its services object, as events carry it). */
  origin: object;
  stats: Stats;
  log?: Logger;
  /** Reporter flush interval (default 1 s). */
  flushIntervalMs?: number;
  /** TCP sampling decision source, [0, 1) (default Math.random). */
  random?: () => number;
}

export class Tracer {
  readonly #origin: object;
  readonly #stats: Stats;
  readonly #log: Logger;
  readonly #flushIntervalMs: number | undefined;
  readonly #random: () => number;
  #reporter: ZipkinReporter | undefined;
  /** A collector address that cannot be parsed: said once, not once per span. */
  #badAddress: string | undefined;
  readonly #onRequest = (message: unknown): void => this.#request(message as RequestEvent);
  readonly #onConnection = (message: unknown): void => this.#connection(message as ConnectionEvent);

  constructor(opts: TracerOptions) {
    this.#origin = opts.origin;
    this.#stats = opts.stats;
    this.#log = opts.log ?? silentLogger;
    this.#flushIntervalMs = opts.flushIntervalMs;
    this.#random = opts.random ?? Math.random;
    requestChannel.subscribe(this.#onRequest);
    connectionChannel.subscribe(this.#onConnection);
  }

  /** Sends what is queued (tests, and before the proxy exits). */
  flush(): Promise<void> {
    return this.#reporter?.flush() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    requestChannel.unsubscribe(this.#onRequest);
    connectionChannel.unsubscribe(this.#onConnection);
    await this.#reporter?.close();
    this.#reporter = undefined;
  }

  #request(ev: RequestEvent): void {
    if (ev.origin !== this.#origin || ev.trace === undefined) return;
    try {
      const span = requestSpan(ev);
      const settings = tracingSettings(ev.config.mesh, ev.direction);
      if (span && settings) {
        if (settings.customTags) addCustomTags(span.tags, settings.customTags, { kind: 'http', event: ev });
        this.#report(settings, span);
      }
    } catch (err) {
      this.#log.error('tracing failed to record a request', { error: (err as Error).message });
    }
  }

  #connection(ev: ConnectionEvent): void {
    if (ev.origin !== this.#origin) return;
    const tracing = tracingSettings(ev.config.mesh, ev.direction);
    if (tracing === undefined || !(this.#random() * 100 < tracing.samplingPercent)) return;
    try {
      const span = connectionSpan(ev);
      if (tracing.customTags) addCustomTags(span.tags, tracing.customTags, { kind: 'tcp', event: ev });
      this.#report(tracing, span);
    } catch (err) {
      this.#log.error('tracing failed to record a connection', { error: (err as Error).message });
    }
  }

  #report(settings: TracingSettings, span: ZipkinSpan): void {
    this.#stats.inc('tracing.spans_recorded');
    const otlp = settings.otlp;
    // An OTLP exporter is keyed by everything that shapes its requests.
    const address = otlp ? `otlp ${JSON.stringify(otlp)}` : settings.zipkinAddress;
    if (address === undefined || address === '' || address === this.#badAddress) return;
    if (this.#reporter?.address !== address) {
      // A new collector address with a pushed config: what is queued for the old one still goes there.
      void this.#reporter?.close();
      this.#reporter = undefined;
      try {
        this.#reporter = new ZipkinReporter({
          address,
          ...(otlp ? { otlp } : {}),
          stats: this.#stats,
          ...(this.#flushIntervalMs !== undefined ? { flushIntervalMs: this.#flushIntervalMs } : {}),
          onError: (message) => this.#warn(message),
        });
      } catch (err) {
        this.#badAddress = address;
        this.#log.error('tracing collector address is not usable; spans are not sent', { address, error: (err as Error).message });
        return;
      }
    }
    this.#reporter.report(span);
  }

  #lastWarning = 0;

  /** A collector that is down fails every batch: say so once a minute, not once a second. */
  #warn(message: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < 60_000) return;
    this.#lastWarning = now;
    this.#log.warn('spans not delivered', { error: message, dropped: this.#stats.get('tracing.zipkin.spans_dropped') + this.#stats.get('tracing.opentelemetry.spans_dropped') });
  }
}

/** Compiled formatter tags, by format string (a handful per mesh). */
const formats = new Map<string, ReturnType<typeof compileFormat>>();

/**
 * Telemetry customTags as Envoy's tracer sets them: a literal always; an environment variable of
 * the proxy or a request header when present, else its defaultValue, else no tag; a formatter
 * with the access log's operators (what they cannot say prints `-`).
 */
export function addCustomTags(tags: Record<string, string>, custom: NonNullable<TracingSettings['customTags']>, entry: LogEntry): void {
  for (const [name, tag] of Object.entries(custom)) {
    let value: string | undefined;
    if ('literal' in tag) value = tag.literal;
    else if ('environment' in tag) value = process.env[tag.environment] ?? tag.defaultValue;
    else if ('header' in tag) {
      const v = entry.kind === 'http' ? entry.event.requestHeaders?.[tag.header] : undefined;
      value = Array.isArray(v) ? v.join(',') : (v ?? tag.defaultValue);
    } else {
      let parts = formats.get(tag.formatter);
      if (!parts) {
        if (formats.size >= 100) formats.clear();
        formats.set(tag.formatter, (parts = compileFormat(tag.formatter)));
      }
      value = formatText(parts, entry);
    }
    if (value !== undefined) tags[name] = value;
  }
}
