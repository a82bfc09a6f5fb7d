/**
 * CEL over Envoy's attributes, for Telemetry's access-log `filter.expression` and metric tag
 * override values, evaluated with @marcbachmann/cel-js (zero dependencies; parse once, evaluate
 * per request). The recorder imports this module only when a config uses an expression: CEL adds
 * about 1 MB of heap, which a sidecar without expressions should not carry.
 *
 * Attributes (Envoy's attribute names, as Istio's documentation uses them): `request.*` (headers,
 * host, path, url_path, method, protocol, id, useragent, referer, size, total_size), `response.*`
 * (code, code_details, flags, grpc_status, size, total_size), `connection.*` (mtls,
 * requested_server_name), `source`/`destination`/`upstream` address and port, `xds.cluster_name`
 * and `xds.route_name`, and Istio's `downstream_peer` / `upstream_peer` (workload, namespace, app,
 * version, service, revision, cluster, labels). Integers are CEL ints (`response.code >= 400`).
 * Not carried by the events: response headers and trailers, request.time and request.duration.
 */
import { parse } from '@marcbachmann/cel-js';
import type { ConnectionEvent, RequestEvent } from '../events.js';
import type { PeerMetadata } from '../http/peer-metadata.js';

export type Attributes = Record<string, unknown>;
export type Expression = (attributes: Attributes) => unknown;

const compiled = new Map<string, Expression | Error>();

/** A parsed expression, cached by its text; an Error when it does not parse. */
export function compile(text: string): Expression | Error {
  let e = compiled.get(text);
  if (e === undefined) {
    try {
      const program = parse(text);
      e = (attributes) => program(attributes) as unknown;
    } catch (err) {
      e = new Error(firstLine((err as Error).message));
    }
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(text, e);
  }
  return e;
}

/** The first line of a cel-js message (the rest draws the position). */
export function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** true only for a boolean true: an error or another type filters the entry out, as Envoy does. */
export function matches(e: Expression, attributes: Attributes): boolean {
  try {
    return e(attributes) === true;
  } catch {
    return false;
  }
}

/** A tag value: strings as they are, numbers and booleans printed, errors and missing keys `unknown`. */
export function tagValue(e: Expression, attributes: Attributes): string {
  try {
    const v = e(attributes);
    if (typeof v === 'string') return v;
    if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    return 'unknown';
  } catch {
    return 'unknown';
  }
}

function hostPort(address: string): { address: string; port: bigint } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return m ? { address: m[1] ?? '', port: BigInt(m[2] ?? 0) } : { address, port: 0n };
}

function peer(p: PeerMetadata | undefined): Attributes {
  if (p === undefined) return { labels: {} };
  return {
    name: p.name, namespace: p.namespace, workload: p.workload, cluster: p.cluster, app: p.app, version: p.version,
    service: p.canonicalService, revision: p.canonicalRevision,
    labels: { app: p.app, version: p.version, 'service.istio.io/canonical-name': p.canonicalService, 'service.istio.io/canonical-revision': p.canonicalRevision },
  };
}

function headerMap(headers: RequestEvent['requestHeaders']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/** The attributes of one request. */
export function requestAttributes(ev: RequestEvent): Attributes {
  const query = ev.path.indexOf('?');
  const headers = headerMap(ev.requestHeaders);
  return {
    request: {
      headers, host: ev.authority, path: ev.path, url_path: query < 0 ? ev.path : ev.path.slice(0, query),
      query: query < 0 ? '' : ev.path.slice(query + 1), method: ev.method, protocol: ev.protocol, id: ev.requestId,
      useragent: ev.userAgent, referer: headers.referer ?? '', size: BigInt(ev.bytesReceived), total_size: BigInt(ev.bytesReceived),
    },
    response: {
      code: BigInt(ev.status), code_details: ev.details, flags: ev.flags, grpc_status: ev.grpcStatus,
      size: BigInt(ev.bytesSent), total_size: BigInt(ev.bytesSent),
    },
    ...common(ev),
    xds: { cluster_name: ev.cluster, route_name: ev.route },
  };
}

/** The attributes of one TCP connection (no request or response). */
export function connectionAttributes(ev: ConnectionEvent): Attributes {
  return { ...common(ev), xds: { cluster_name: ev.cluster }, request: { headers: {} }, response: { flags: ev.flags } };
}

function common(ev: RequestEvent | ConnectionEvent): Attributes {
  return {
    connection: { mtls: ev.peerPrincipal !== undefined, requested_server_name: ev.requestedServerName },
    source: hostPort(ev.downstreamRemoteAddress),
    destination: hostPort(ev.downstreamLocalAddress),
    upstream: hostPort(ev.upstreamHost),
    downstream_peer: peer(ev.downstreamPeer),
    upstream_peer: peer(ev.upstreamPeer),
  };
}
