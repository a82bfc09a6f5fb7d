/**
 * Istio's standard metrics for one proxy: istio_requests_total, the duration and size
 * histograms, the four TCP counters and istio_build. Recording is the hot part, so a request
 * builds no string: its series is found by walking a tree of Maps keyed by the values the
 * request already holds (its config and cluster, route and Host, the peer, the code, the flags),
 * and the Istio label set behind a path is computed once, when it is first seen. Paths that
 * lead to the same labels (another Host for a service's cluster) share one series.
 */
import type { ProxyConfig, ListenerDirection } from '../../proxy-config/index.js';
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
  constructor(readonly labels: string, buckets: readonly number[]) {
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
      const labels = labelText(HTTP_LABELS, istioLabelValues(input));
      series = this.#httpByLabels.get(labels);
      if (series === undefined) {
        series = new HttpSeries(labels, this.#buckets);
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
    series.requests++;
    // Envoy records whole milliseconds (the duration divided down, not rounded).
    series.duration.observe(Math.floor(s.durationMs));
    series.requestBytes.observe(s.requestBytes);
    series.responseBytes.observe(s.responseBytes);
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
    for (const s of http) out += `istio_requests_total{${s.labels}} ${s.requests}\n`;
    const histograms = [
      ['istio_request_duration_milliseconds', 'Request duration in milliseconds', (s: HttpSeries) => s.duration],
      ['istio_request_bytes', 'Request size in bytes', (s: HttpSeries) => s.requestBytes],
      ['istio_response_bytes', 'Response size in bytes', (s: HttpSeries) => s.responseBytes],
    ] as const;
    for (const [name, help, pick] of histograms) {
      out += familyHeader(name, 'histogram', help);
      for (const s of http) out += pick(s).write(name, s.labels, this.#suffixes);
    }
    const counters = [
      ['istio_tcp_connections_opened_total', 'Total TCP connections opened', (s: TcpSeries) => s.opened],
      ['istio_tcp_connections_closed_total', 'Total TCP connections closed', (s: TcpSeries) => s.closed],
      ['istio_tcp_sent_bytes_total', 'Total bytes sent in response to TCP connections', (s: TcpSeries) => s.sent],
      ['istio_tcp_received_bytes_total', 'Total bytes received in TCP connections', (s: TcpSeries) => s.received],
    ] as const;
    for (const [name, help, pick] of counters) {
      out += familyHeader(name, 'counter', help);
      for (const s of tcp) out += `${name}{${s.labels}} ${pick(s)}\n`;
    }
    return out;
  }
}
