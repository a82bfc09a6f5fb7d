/**
 * Istio's standard metrics for one proxy: istio_requests_total, the duration and size
 * histograms, the four TCP counters and istio_build. Recording is the hot part, so a request
 * builds no string: its series is found by walking a tree of Maps keyed by the values the
 * request already holds (its config and cluster, route and Host, the peer, the code, the flags),
 * and the Istio label set behind a path is computed once, when it is first seen. Paths that
 * lead to the same labels (another Host for a service's cluster) share one series.
 *
 * Telemetry metrics overrides (config.mesh.metrics, per side) are applied off that path: a disabled
 * metric is not recorded, one with tag overrides goes to a series of its own whose labels are the
 * standard ones with tags removed, replaced or added (values from CEL expressions, `tagValue`).
 */
import type { IstioMetricName, MetricOverride, ProxyConfig, ListenerDirection } from '../../proxy-config/index.js';
import type { PeerMetadata } from '../http/peer-metadata.js';
import { HTTP_LABELS, TCP_LABELS, istioLabelValues, type LabelInput } from './labels.js';
import { DEFAULT_BUCKETS, HistogramValues, bucketSuffixes, familyHeader, labelText } from './prometheus.js';

export interface HttpSample {
  config: ProxyConfig;
  direction: ListenerDirection;
  cluster: string;
  route: string;
  authority: string;
  peerPrincipal: string | undefined;
  downstreamPeer: PeerMetadata | undefined;
  upstreamPeer: PeerMetadata | undefined;
  upstreamEndpoint: unknown;
  grpc: boolean;
  status: number;
  grpcStatus: string;
  flags: string;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  /** Evaluates a tag override's CEL expression for this request (present when the config has overrides). */
  tagValue?: ((expression: string) => string) | undefined;
}

type SideOverrides = Partial<Record<IstioMetricName, MetricOverride>>;

/** A series of one metric whose labels a tag override changed. */
interface OverriddenSeries {
  labels: string;
  count: number;
  histogram: HistogramValues | undefined;
}

/** Past this many label sets per overridden metric, new ones are not recorded (tag values come from requests). */
const MAX_OVERRIDDEN_SERIES = 10_000;

const HTTP_METRICS = ['REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE'] as const;

/** The exposition names of the TCP metrics a Telemetry override can disable. */
const TCP_METRIC_NAMES: Record<string, IstioMetricName> = {
  istio_tcp_connections_opened_total: 'TCP_OPENED_CONNECTIONS',
  istio_tcp_connections_closed_total: 'TCP_CLOSED_CONNECTIONS',
  istio_tcp_sent_bytes_total: 'TCP_SENT_BYTES',
  istio_tcp_received_bytes_total: 'TCP_RECEIVED_BYTES',
};

function sideOverrides(config: ProxyConfig, direction: ListenerDirection): SideOverrides | undefined {
  const m = config.mesh.metrics;
  return m === undefined ? undefined : direction === 'inbound' ? m.server : m.client;
}

/** What decides a TCP connection's labels. */
export interface TcpIdentity {
  config: ProxyConfig;
  direction: ListenerDirection;
  cluster: string;
  peerPrincipal: string | undefined;
  /** From Istio's TCP metadata exchange, when the peer took part. */
  downstreamPeer?: PeerMetadata | undefined;
  upstreamPeer?: PeerMetadata | undefined;
  upstreamEndpoint: unknown;
}

export interface TcpSample extends TcpIdentity {
  flags: string;
  bytesReceived: number;
  bytesSent: number;
  /** The token the connection was opened with (openConnection), if it was. */
  opened: object | undefined;
}

/** An open connection: its series (labels fixed at open, as Istio's are) and the bytes already counted. */
interface LiveConnection {
  series: TcpSeries;
  bytes: () => { bytesReceived: number; bytesSent: number };
  received: number;
  sent: number;
}

/** One level of the key tree: the next key part to the next level, the last one to a series. */
type Level = Map<unknown, unknown>;

class HttpSeries {
  requests = 0;
  readonly duration: HistogramValues;
  readonly requestBytes: HistogramValues;
  readonly responseBytes: HistogramValues;
  constructor(readonly labels: string, readonly values: readonly string[], buckets: readonly number[]) {
    this.duration = new HistogramValues(buckets);
    this.requestBytes = new HistogramValues(buckets);
    this.responseBytes = new HistogramValues(buckets);
  }
}

class TcpSeries {
  opened = 0;
  closed = 0;
  sent = 0;
  received = 0;
  /** Metrics a Telemetry override disabled for this series' side. */
  disabled: ReadonlySet<IstioMetricName> | undefined;
  constructor(readonly labels: string) {}
}

/** Past this many distinct keys the key cache starts over (series stay): a bound against hostile Host headers. */
const MAX_KEYS = 10_000;

export class IstioMetrics {
  readonly #buckets: readonly number[];
  readonly #suffixes: string[];
  #httpTree = new WeakMap<ProxyConfig, Level>();
  #httpKeys = 0;
  readonly #httpByLabels = new Map<string, HttpSeries>();
  readonly #tcpByKey = new Map<string, TcpSeries>();
  readonly #tcpByLabels = new Map<string, TcpSeries>();
  readonly #live = new Map<object, LiveConnection>();
  readonly #ids = new WeakMap<object, number>();
  #nextId = 1;
  readonly #version: string;
  readonly #overridden = new Map<IstioMetricName, Map<string, OverriddenSeries>>();

  constructor(opts: { buckets?: readonly number[]; version?: string } = {}) {
    this.#buckets = opts.buckets ?? DEFAULT_BUCKETS;
    this.#suffixes = bucketSuffixes(this.#buckets);
    this.#version = opts.version ?? 'unknown';
  }

  #id(o: unknown): number {
    if (typeof o !== 'object' || o === null) return 0;
    let id = this.#ids.get(o);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(o, id);
    }
    return id;
  }

  recordRequest(s: HttpSample): void {
    const series = this.#httpSeries(s);
    const overrides = s.config.mesh.metrics === undefined ? undefined : sideOverrides(s.config, s.direction);
    if (overrides !== undefined) return this.#recordOverridden(s, series, overrides);
    series.requests++;
    // Envoy records whole milliseconds (the duration divided down, not rounded).
    series.duration.observe(Math.floor(s.durationMs));
    series.requestBytes.observe(s.requestBytes);
    series.responseBytes.observe(s.responseBytes);
  }

  #httpSeries(s: HttpSample): HttpSeries {
    // Walk the key tree with the request's own values: no string is built per request.
    const inbound = s.direction === 'inbound';
    const peer = inbound ? s.downstreamPeer : s.upstreamPeer;
    const other = inbound ? s.peerPrincipal : s.upstreamEndpoint;
    const status = s.grpc ? -1 - s.status : s.status;
    const rest = s.grpc ? `${s.flags}\u0001${s.grpcStatus}` : s.flags;
    let level: Level | undefined = this.#httpTree.get(s.config);
    for (const k of [s.direction, s.cluster, s.route, s.authority, peer, other, status]) level = level?.get(k) as Level | undefined;
    let series = level?.get(rest) as HttpSeries | undefined;
    if (series === undefined) {
      const input: LabelInput = { ...s, protocol: s.grpc ? 'grpc' : 'http' };
      const values = istioLabelValues(input);
      const labels = labelText(HTTP_LABELS, values);
      series = this.#httpByLabels.get(labels);
      if (series === undefined) {
        series = new HttpSeries(labels, values, this.#buckets);
        this.#httpByLabels.set(labels, series);
      }
      if (++this.#httpKeys > MAX_KEYS) {
        this.#httpTree = new WeakMap();
        this.#httpKeys = 0;
      }
      let node = this.#httpTree.get(s.config);
      if (!node) this.#httpTree.set(s.config, (node = new Map()));
      for (const k of [s.direction, s.cluster, s.route, s.authority, peer, other, status]) {
        let next = node.get(k) as Level | undefined;
        if (!next) node.set(k, (next = new Map()));
        node = next;
      }
      node.set(rest, series);
    }
    return series;
  }

  /** A request on a side with Telemetry overrides: each metric as its override says. */
  #recordOverridden(s: HttpSample, base: HttpSeries, overrides: SideOverrides): void {
    const values = [1, Math.floor(s.durationMs), s.requestBytes, s.responseBytes];
    HTTP_METRICS.forEach((metric, i) => {
      const value = values[i] ?? 0;
      const o = overrides[metric];
      if (o?.disabled === true) return;
      if (o?.tags === undefined || o.tags.length === 0) {
        if (metric === 'REQUEST_COUNT') base.requests++;
        else (metric === 'REQUEST_DURATION' ? base.duration : metric === 'REQUEST_SIZE' ? base.requestBytes : base.responseBytes).observe(value);
        return;
      }
      const labels = overriddenLabels(base.values, o.tags, s.tagValue);
      let byLabels = this.#overridden.get(metric);
      if (!byLabels) this.#overridden.set(metric, (byLabels = new Map()));
      let series = byLabels.get(labels);
      if (series === undefined) {
        if (byLabels.size >= MAX_OVERRIDDEN_SERIES) return;
        series = { labels, count: 0, histogram: metric === 'REQUEST_COUNT' ? undefined : new HistogramValues(this.#buckets) };
        byLabels.set(labels, series);
      }
      series.count++;
      series.histogram?.observe(value);
    });
  }

  #tcpSeries(s: TcpIdentity, flags: string): TcpSeries {
    const key = `${this.#id(s.config)}\u0001${s.direction}\u0001${s.cluster}\u0001${s.peerPrincipal ?? ''}\u0001${this.#id(s.upstreamEndpoint)}\u0001${this.#id(s.downstreamPeer)}\u0001${this.#id(s.upstreamPeer)}\u0001${flags}`;
    let series = this.#tcpByKey.get(key);
    if (series === undefined) {
      const values = istioLabelValues({ ...s, route: '', authority: '', downstreamPeer: s.downstreamPeer, upstreamPeer: s.upstreamPeer, protocol: 'tcp', status: 0, grpcStatus: '', flags });
      const labels = labelText(TCP_LABELS, values);
      series = this.#tcpByLabels.get(labels);
      if (series === undefined) {
        series = new TcpSeries(labels);
        this.#tcpByLabels.set(labels, series);
      }
      const overrides = sideOverrides(s.config, s.direction);
      if (overrides !== undefined) {
        const off = Object.values(TCP_METRIC_NAMES).filter((m) => overrides[m]?.disabled === true);
        series.disabled = off.length > 0 ? new Set(off) : undefined;
      }
      if (this.#tcpByKey.size >= MAX_KEYS) this.#tcpByKey.clear();
      this.#tcpByKey.set(key, series);
    }
    return series;
  }

  /** A connection is established: counted open now, its bytes read at every scrape until it closes. */
  openConnection(token: object, s: TcpIdentity, bytes: LiveConnection['bytes']): void {
    const series = this.#tcpSeries(s, '');
    series.opened++;
    this.#live.set(token, { series, bytes, received: 0, sent: 0 });
  }

  recordConnection(s: TcpSample): void {
    const live = s.opened ? this.#live.get(s.opened) : undefined;
    if (live) {
      this.#live.delete(s.opened ?? live);
      live.series.closed++;
      live.series.sent += s.bytesSent - live.sent;
      live.series.received += s.bytesReceived - live.received;
      return;
    }
    // Never established (no route, connect failure, denied): opened and closed at once, with its flags.
    const series = this.#tcpSeries(s, s.flags);
    series.opened++;
    series.closed++;
    series.sent += s.bytesSent;
    series.received += s.bytesReceived;
  }

  /** Moves the bytes of connections still open into their series (Istio reports them periodically). */
  #flushLive(): void {
    for (const live of this.#live.values()) {
      const { bytesReceived, bytesSent } = live.bytes();
      live.series.sent += bytesSent - live.sent;
      live.series.received += bytesReceived - live.received;
      live.sent = bytesSent;
      live.received = bytesReceived;
    }
  }

  /** The whole exposition. Families with no series yet print their HELP and TYPE only. */
  prometheus(): string {
    this.#flushLive();
    const http = [...this.#httpByLabels.values()];
    const tcp = [...this.#tcpByLabels.values()];
    let out = familyHeader('istio_build', 'gauge', 'Istio component build info');
    out += `istio_build{component="proxy",tag="${this.#version}"} 1\n`;
    out += familyHeader('istio_requests_total', 'counter', 'Total number of requests');
    for (const s of http) if (s.requests > 0) out += `istio_requests_total{${s.labels}} ${s.requests}\n`;
    for (const s of this.#overridden.get('REQUEST_COUNT')?.values() ?? []) out += `istio_requests_total{${s.labels}} ${s.count}\n`;
    const histograms = [
      ['istio_request_duration_milliseconds', 'Request duration in milliseconds', (s: HttpSeries) => s.duration, 'REQUEST_DURATION'],
      ['istio_request_bytes', 'Request size in bytes', (s: HttpSeries) => s.requestBytes, 'REQUEST_SIZE'],
      ['istio_response_bytes', 'Response size in bytes', (s: HttpSeries) => s.responseBytes, 'RESPONSE_SIZE'],
    ] as const;
    for (const [name, help, pick, metric] of histograms) {
      out += familyHeader(name, 'histogram', help);
      for (const s of http) if (pick(s).count > 0) out += pick(s).write(name, s.labels, this.#suffixes);
      for (const s of this.#overridden.get(metric)?.values() ?? []) out += s.histogram?.write(name, s.labels, this.#suffixes) ?? '';
    }
    const counters = [
      ['istio_tcp_connections_opened_total', 'Total TCP connections opened', (s: TcpSeries) => s.opened],
      ['istio_tcp_connections_closed_total', 'Total TCP connections closed', (s: TcpSeries) => s.closed],
      ['istio_tcp_sent_bytes_total', 'Total bytes sent in response to TCP connections', (s: TcpSeries) => s.sent],
      ['istio_tcp_received_bytes_total', 'Total bytes received in TCP connections', (s: TcpSeries) => s.received],
    ] as const;
    for (const [name, help, pick] of counters) {
      out += familyHeader(name, 'counter', help);
      const metric = TCP_METRIC_NAMES[name];
      for (const s of tcp) if (metric === undefined || !s.disabled?.has(metric)) out += `${name}{${s.labels}} ${pick(s)}\n`;
    }
    return out;
  }
}

/** The standard labels with a side's tag overrides applied: removed, replaced in place, or added at the end. */
function overriddenLabels(values: readonly string[], tags: NonNullable<MetricOverride['tags']>, tagValue: HttpSample['tagValue']): string {
  const names: string[] = [...HTTP_LABELS];
  const vals = [...values];
  for (const tag of tags) {
    const i = names.indexOf(tag.name);
    if (tag.remove === true) {
      if (i >= 0) {
        names.splice(i, 1);
        vals.splice(i, 1);
      }
      continue;
    }
    const v = tagValue ? tagValue(tag.value ?? '') : 'unknown';
    if (i >= 0) vals[i] = v;
    else {
      names.push(tag.name);
      vals.push(v);
    }
  }
  return labelText(names, vals);
}
