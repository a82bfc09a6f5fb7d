/**
 * One HTTP request on its way through the proxy: what the listener knew, what each stage decided,
 * and what the access log and metrics will report. One object per request, with every field
 * declared up front, so the hot path allocates little and V8 sees one shape.
 *
 * It is also the RouteRequest the route matcher reads (method, path, query, authority, scheme,
 * port, header(), claims), so matching allocates nothing either.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { FilterChain, HttpConnectionManager, Listener, Route, VirtualHost, WeightedCluster } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { ConnectionContext } from '../listeners/connection.js';
import type { ProxyServices } from '../services.js';
import { DownstreamSignal } from './downstream-signal.js';
import type { Http1Request } from './h1/request.js';
import type { Http1Response } from './h1/response.js';
import type { PeerMetadata } from './peer-metadata.js';
import type { SpanContext } from '../tracing/context.js';

export type DownstreamRequest = Http1Request | Http2ServerRequest;
export type DownstreamResponse = Http1Response | Http2ServerResponse;

export class Exchange {
  /** performance.now() when the request's headers were parsed. */
  readonly startedAt: number;
  readonly startTime: number;
  readonly req: DownstreamRequest;
  /** null for an Upgrade request, whose reply goes to `upgrade.socket` as raw bytes. */
  readonly res: DownstreamResponse | null;
  readonly upgrade: { socket: Duplex; head: Buffer } | null;
  readonly conn: ConnectionContext;
  readonly services: ProxyServices;
  readonly snapshot: ConfigSnapshot;
  readonly listener: Listener;
  readonly filterChain: FilterChain;
  readonly hcm: HttpConnectionManager;
  readonly http2: boolean;

  readonly method: string;
  /** The Host (`:authority`) as received; routing uses it, rewrite may change what goes upstream. */
  readonly authority: string;
  /** The destination port: from the authority, or the listener's port. */
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** The path as received (access log's X-ENVOY-ORIGINAL-PATH); `path` is after normalization. */
  readonly rawPath: string;
  path: string;
  /** With its leading `?`, or '' (as normalizePath returns it). */
  query: string;
  /** Validated JWT payload, once jwt-authn has run (security issue); read by claim matches. */
  claims: Record<string, unknown> | undefined = undefined;
  /** `iss/sub` of the verified JWT (Istio's request.auth.principal); audiences and presenter are in `claims`. */
  requestPrincipal: string | undefined = undefined;

  vhost: VirtualHost | undefined = undefined;
  route: Route | undefined = undefined;
  /** The prefix the route matched, for prefix rewrites and redirects. */
  matchedPrefix: string | undefined = undefined;
  destination: WeightedCluster | undefined = undefined;
  /** Headers sent upstream: built from the request's once routing needs them. */
  upstreamHeaders: OutgoingHttpHeaders | undefined = undefined;
  /** Extra response headers from stages that run before the response exists (CORS). */
  responseExtras: Record<string, string> | undefined = undefined;

  // What the access log and metrics report.
  cluster = '';
  upstreamHost = '';
  attempts = 0;
  flags = '';
  details = '';
  status = 0;
  upstreamStartedAt = 0;
  upstreamServiceTimeMs = -1;
  /** The endpoint the upstream side used, and the server's workload from the metadata exchange (telemetry). */
  upstreamEndpoint: unknown = undefined;
  upstreamPeer: PeerMetadata | undefined = undefined;
  grpcStatus = '';
  /** This proxy's span (tracing/request.ts), decided when the request first needs it. */
  trace: SpanContext | undefined = undefined;
  /** Set once a response (local or upstream) has been started; stops the chain. */
  responded = false;
  /** Aborted when the client goes away: stops the upstream request and any fault delay. */
  readonly abort: DownstreamSignal = new DownstreamSignal();

  constructor(init: {
    req: DownstreamRequest;
    res: DownstreamResponse | null;
    upgrade: { socket: Duplex; head: Buffer } | null;
    conn: ConnectionContext;
    services: ProxyServices;
    snapshot: ConfigSnapshot;
    listener: Listener;
    filterChain: FilterChain;
    hcm: HttpConnectionManager;
    method: string;
    authority: string;
    port: number;
    rawPath: string;
  }) {
    this.startedAt = performance.now();
    this.startTime = Date.now();
    this.req = init.req;
    this.res = init.res;
    this.upgrade = init.upgrade;
    this.conn = init.conn;
    this.services = init.services;
    this.snapshot = init.snapshot;
    this.listener = init.listener;
    this.filterChain = init.filterChain;
    this.hcm = init.hcm;
    this.http2 = init.req.httpVersionMajor === 2;
    this.method = init.method;
    this.authority = init.authority;
    this.port = init.port;
    this.scheme = init.conn.scheme;
    this.rawPath = init.rawPath;
    // Until normalization runs: the query keeps its `?` so `path + query` is the upstream :path.
    const q = init.rawPath.indexOf('?');
    this.path = q < 0 ? init.rawPath : init.rawPath.slice(0, q);
    this.query = q < 0 ? '' : init.rawPath.slice(q);
  }

  /** A request header by lower-case name; repeated headers read as one comma-joined value. */
  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }

  addFlag(flag: string): void {
    this.flags = this.flags === '' ? flag : `${this.flags},${flag}`;
  }

  /** True when the client speaks gRPC: local replies then go out as gRPC status trailers. */
  get grpc(): boolean {
    const ct = this.req.headers['content-type'];
    return typeof ct === 'string' && ct.startsWith('application/grpc');
  }
}
