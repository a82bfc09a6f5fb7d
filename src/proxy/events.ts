/**
 * What the proxy tells the rest of the world, as node:diagnostics_channel events (undici's
 * pattern): telemetry subscribes for metrics, access logs and spans, and the request path never
 * imports it. Publishing costs nothing while nobody listens, and events are built only then.
 */
import diagnostics from 'node:diagnostics_channel';

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
}

/** A config was applied or rejected (the future ACK / NACK). */
export interface ConfigEvent {
  version: string;
  accepted: boolean;
  errors: string[];
}

export const requestChannel = diagnostics.channel('weft:proxy:request');
export const connectionChannel = diagnostics.channel('weft:proxy:connection');
export const configChannel = diagnostics.channel('weft:proxy:config');
