/**
 * What the proxy needs from the upstream side (src/proxy/upstream: clusters, load balancing,
 * pools, retries). Written as an interface so the listeners and the chain depend on this shape,
 * not on the implementation, and a test can count what was asked of it.
 */
import type { Readable, Duplex } from 'node:stream';
import type { Cluster, ClusterLoadAssignment, RetryPolicy, Secret } from '../proxy-config/index.js';

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Readable | Buffer | null;
}

export interface SendOptions {
  timeoutMs?: number;
  retry?: RetryPolicy;
  hashKey?: string;
  signal?: AbortSignal;
  http2?: boolean;
  /** For PASSTHROUGH (original-dst) clusters: where the request was headed. */
  originalDestination?: { address: string; port: number };
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /**
   * The whole body, already received (an HTTP/1.1 response with a Content-Length up to 16 KiB
   * whose bytes came with its head): write it with the head and leave `body` unread (it is made
   * on first use). Undefined when the body streams.
   */
  completeBody?: Buffer;
  trailers?: Promise<Record<string, string>>;
  /** The upstream connection's protocol: an HTTP/1.1 body with a length has no trailers. */
  protocol?: 'http1' | 'http2';
  endpoint: unknown;
  attempts: number;
  /** URX / UO when a retriable response is returned anyway. */
  flags?: readonly string[];
  /** Request complete to response headers (x-envoy-upstream-service-time). */
  serviceTimeMs?: number;
}

export interface UpstreamPort {
  apply(clusters: Cluster[], assignments: ClusterLoadAssignment[], secrets?: Secret[]): void;
  send(cluster: string, req: UpstreamRequest, opts: SendOptions): Promise<UpstreamResponse>;
  connect(cluster: string, opts: { hashKey?: string; originalDestination?: { address: string; port: number } }): Promise<{ socket: Duplex; endpoint: unknown }>;
  snapshot(): unknown;
  close(): Promise<void> | void;
}

/** `10.0.0.5:9080` for logs, from whatever endpoint shape the upstream side reports. */
export function endpointAddress(endpoint: unknown): string {
  if (typeof endpoint === 'string') return endpoint;
  if (endpoint && typeof endpoint === 'object') {
    const e = endpoint as { address?: unknown; port?: unknown; host?: unknown };
    const host = typeof e.address === 'string' ? e.address : typeof e.host === 'string' ? e.host : undefined;
    if (host !== undefined) return typeof e.port === 'number' ? `${host}:${e.port}` : host;
  }
  return '';
}
