/**
 * What the proxy tells the rest of the world, as node:diagnostics_channel events (undici's
 * pattern): telemetry subscribes for metrics, access logs and spans, and the request path never
 * imports it. Publishing costs nothing while nobody listens, and events are built only then.
 */
import diagnostics from 'node:diagnostics_channel';
import type { ProxyConfig } from '../proxy-config/index.js';
import type { PeerMetadata } from './http/peer-metadata.js';
import type { RequestTrace } from './tracing/request.js';

/** One HTTP request, published when its response ends (or the client goes away). */
export interface RequestEvent {
  /** Epoch milliseconds when the request's headers arrived. */
  startTime: number;
  durationMs: number;
  /** Time from the upstream request start to its response headers; -1 without an upstream. */
  upstreamServiceTimeMs: number;
  listener: string;
  direction: 'outbound' | 'inbound' | 'gateway';
  statPrefix: string;
  protocol: string;
  method: string;
  authority: string;
  /** The path as the client sent it (Envoy's X-ENVOY-ORIGINAL-PATH?:PATH). */
  path: string;
  requestId: string;
  userAgent: string;
  forwardedFor: string;
  status: number;
  /** Envoy response flags, comma-separated (`UF,URX`); empty when none. */
  flags: string;
  /** Envoy's RESPONSE_CODE_DETAILS (`via_upstream`, `route_not_found`, ...). */
  details: string;
  route: string;
  virtualHost: string;
  cluster: string;
  upstreamHost: string;
  attempts: number;
  bytesReceived: number;
  bytesSent: number;
  downstreamRemoteAddress: string;
  downstreamLocalAddress: string;
  requestedServerName: string;
  /** Which proxy published it (its services object): tests run several proxies in one process. */
  origin: object;
  /** The config the request was served with: the node's identity, clusters' services. */
  config: ProxyConfig;
  /** The client speaks gRPC (content-type application/grpc...). */
  grpc: boolean;
  /** grpc-status of the response (headers or trailers); '' when none. */
  grpcStatus: string;
  /** Server side: the client's workload from the metadata exchange. */
  downstreamPeer: PeerMetadata | undefined;
  /** Client side: the server's workload from the metadata exchange. */
  upstreamPeer: PeerMetadata | undefined;
  /** The verified client certificate's principal (`cluster.local/ns/x/sa/y`) when mTLS was terminated here. */
  peerPrincipal: string | undefined;
  /** The endpoint the upstream side used (the config's Endpoint: labels, workload, tlsMode), if any. */
  upstreamEndpoint: unknown;
  /** This proxy's span when the request was sampled for tracing. */
  trace?: RequestTrace | undefined;
  /** The request's headers as received (lower-case names), for Telemetry's header tags and CEL attributes. */
  requestHeaders?: Readonly<Record<string, string | string[] | undefined>>;
}

/** One TCP-proxied connection, published when it closes. */
export interface ConnectionEvent {
  startTime: number;
  durationMs: number;
  listener: string;
  direction: 'outbound' | 'inbound' | 'gateway';
  statPrefix: string;
  cluster: string;
  upstreamHost: string;
  flags: string;
  bytesReceived: number;
  bytesSent: number;
  downstreamRemoteAddress: string;
  requestedServerName: string;
  downstreamLocalAddress: string;
  origin: object;
  config: ProxyConfig;
  peerPrincipal: string | undefined;
  /** The peers' workloads from Istio's TCP metadata exchange (server side: the client; client side: the server). */
  downstreamPeer?: PeerMetadata | undefined;
  upstreamPeer?: PeerMetadata | undefined;
  upstreamEndpoint: unknown;
  /** The `ConnectionOpenEvent` published when it was established, if one was. */
  opened: ConnectionOpenEvent | undefined;
}

/**
 * A TCP-proxied connection, established (published once bytes can flow): metrics count it open
 * then, and read its byte counters while it lasts, so a long-lived connection shows at every scrape.
 */
export interface ConnectionOpenEvent {
  origin: object;
  config: ProxyConfig;
  direction: 'outbound' | 'inbound' | 'gateway';
  cluster: string;
  peerPrincipal: string | undefined;
  downstreamPeer?: PeerMetadata | undefined;
  upstreamPeer?: PeerMetadata | undefined;
  upstreamEndpoint: unknown;
  /** Bytes so far from the client and to it. */
  bytes(): { bytesReceived: number; bytesSent: number };
}

/** A config was applied or rejected (the future ACK / NACK). */
export interface ConfigEvent {
  version: string;
  accepted: boolean;
  errors: string[];
}

export const requestChannel = diagnostics.channel('weft:proxy:request');
export const connectionChannel = diagnostics.channel('weft:proxy:connection');
export const connectionOpenChannel = diagnostics.channel('weft:proxy:connection-open');
export const configChannel = diagnostics.channel('weft:proxy:config');
