/**
 * Access logs as Envoy writes them in Istio: meshConfig.accessLogFormat (Envoy's command
 * operators, `%REQ(:METHOD)%`, `%RESPONSE_FLAGS%`...) or Istio's default TEXT format, one line per
 * request or TCP connection; with accessLogEncoding JSON, Istio's default JSON keys with Envoy's
 * typed values (numbers for codes, bytes and durations; null where TEXT prints `-`). A format is
 * compiled once into getters, so a line is a loop over them.
 *
 * What the events do not carry prints as unset: request headers other than the ones Istio's
 * format names, UPSTREAM_LOCAL_ADDRESS, CONNECTION_TERMINATION_DETAILS and
 * UPSTREAM_TRANSPORT_FAILURE_REASON.
 *
 * The peer's workload, which the metadata exchange gives a request or an mTLS TCP connection, is
 * the filter state Istio's proxy keeps under `downstream_peer` (server side: the client) and
 * `upstream_peer` (client side: the server), read as Istio documents it:
 * `%FILTER_STATE(upstream_peer:FIELD:workload)%`, `:PLAIN` (istio/proxy's `type=..,workload=..`
 * string) or `:TYPED` (the default: an object in JSON, its JSON text in TEXT). Istio's default
 * formats print neither, so they do not here either.
 */
import type { ConnectionEvent, RequestEvent } from '../events.js';
import type { PeerMetadata } from '../http/peer-metadata.js';

/** Istio's default TEXT format (pilot/pkg/model/telemetry_logging.go, Istio 1.9+). */
export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% ' +
  '%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" ' +
  '"%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

/** Istio's default JSON keys (EnvoyJSONLogFormatIstio); Envoy writes them sorted. */
export const ISTIO_JSON_FORMAT: Readonly<Record<string, string>> = {
  authority: '%REQ(:AUTHORITY)%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  duration: '%DURATION%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  request_id: '%REQ(X-REQUEST-ID)%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  response_code: '%RESPONSE_CODE%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  response_flags: '%RESPONSE_FLAGS%',
  route_name: '%ROUTE_NAME%',
  start_time: '%START_TIME%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  user_agent: '%REQ(USER-AGENT)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
};

/** A request or a TCP connection, as the access log sees it. */
export type LogEntry = { kind: 'http'; event: RequestEvent } | { kind: 'tcp'; event: ConnectionEvent };

/** A typed filter-state value: an object in JSON, its JSON text in TEXT. */
type Typed = Readonly<Record<string, string>>;

/** undefined: unset (`-` in TEXT, null in JSON). */
type Getter = (e: LogEntry) => string | number | Typed | undefined;

const nonEmpty = (s: string): string | undefined => (s === '' ? undefined : s);

function requestHeader(name: string): Getter {
  const pick = (ev: RequestEvent): string => {
    switch (name) {
      case ':method': return ev.method;
      case ':path': return ev.path;
      case 'x-envoy-original-path': return ev.path;
      case ':authority': case 'host': return ev.authority;
      case 'user-agent': return ev.userAgent;
      case 'x-request-id': return ev.requestId;
      case 'x-forwarded-for': return ev.forwardedFor;
      default: return '';
    }
  };
  return (e) => (e.kind === 'http' ? nonEmpty(pick(e.event)) : undefined);
}

/**
 * istio/proxy's WorkloadMetadataObject fields, in its serializeAsPairs order: `name` is the pod,
 * `service` and `revision` the canonical service and revision. The workload type (from OWNER)
 * is not part of Weft's exchange, so `type` is never set, as Istio leaves it for an unknown owner.
 */
const PEER_FIELDS: readonly (readonly [string, keyof PeerMetadata])[] = [
  ['workload', 'workload'], ['name', 'name'], ['cluster', 'cluster'], ['namespace', 'namespace'],
  ['service', 'canonicalService'], ['revision', 'canonicalRevision'], ['app', 'app'], ['version', 'version'],
];

function peerPairs(peer: PeerMetadata): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, field] of PEER_FIELDS) if (peer[field]) out.push([key, peer[field]]);
  return out;
}

/** `%FILTER_STATE(KEY:F:FIELD)%` for the two peer keys; other keys print as unset (Envoy: nothing stored). */
function filterState(arg: string): Getter {
  const [key = '', format = 'TYPED', field] = arg.split(':');
  const peerOf = key === 'upstream_peer' ? (e: LogEntry) => e.event.upstreamPeer : key === 'downstream_peer' ? (e: LogEntry) => e.event.downstreamPeer : undefined;
  if (!peerOf) return () => undefined;
  switch (format.toUpperCase()) {
    case 'PLAIN': return (e) => { const p = peerOf(e); return p && peerPairs(p).map(([k, v]) => `${k}=${v}`).join(','); };
    case 'FIELD': {
      const name = PEER_FIELDS.find(([k]) => k === field)?.[1];
      return (e) => (name ? nonEmpty(peerOf(e)?.[name] ?? '') : undefined);
    }
    default: return (e) => { const p = peerOf(e); return p && Object.fromEntries(peerPairs(p).sort(([a], [b]) => (a < b ? -1 : 1))); };
  }
}

function operator(command: string, arg: string | undefined): Getter | undefined {
  switch (command) {
    case 'START_TIME': return (e) => new Date(e.event.startTime).toISOString();
    case 'REQ': {
      // `X?Y`: header X, or Y when X is absent.
      const [first = '', alt] = (arg ?? '').toLowerCase().split('?');
      const a = requestHeader(first);
      const b = alt !== undefined ? requestHeader(alt) : undefined;
      // X-ENVOY-ORIGINAL-PATH is set only by a rewrite; the event's path is already what the client sent.
      return b ? (e) => a(e) ?? b(e) : a;
    }
    case 'REQ_WITHOUT_QUERY': {
      const get = operator('REQ', arg);
      return get && ((e) => { const v = get(e); return typeof v === 'string' ? v.split('?')[0] : v; });
    }
    case 'RESP':
      if ((arg ?? '').toLowerCase() === 'x-envoy-upstream-service-time') {
        return (e) => (e.kind === 'http' && e.event.upstreamServiceTimeMs >= 0 ? String(Math.round(e.event.upstreamServiceTimeMs)) : undefined);
      }
      return () => undefined;
    case 'PROTOCOL': return (e) => (e.kind === 'http' ? e.event.protocol : undefined);
    case 'RESPONSE_CODE': return (e) => (e.kind === 'http' ? e.event.status : 0);
    case 'RESPONSE_FLAGS': return (e) => nonEmpty(e.event.flags);
    case 'RESPONSE_CODE_DETAILS': return (e) => (e.kind === 'http' ? nonEmpty(e.event.details) : undefined);
    case 'BYTES_RECEIVED': return (e) => e.event.bytesReceived;
    case 'BYTES_SENT': return (e) => e.event.bytesSent;
    case 'DURATION': return (e) => Math.floor(e.event.durationMs);
    case 'UPSTREAM_HOST': return (e) => nonEmpty(e.event.upstreamHost);
    case 'UPSTREAM_CLUSTER': case 'UPSTREAM_CLUSTER_RAW': return (e) => nonEmpty(e.event.cluster);
    case 'DOWNSTREAM_LOCAL_ADDRESS': return (e) => nonEmpty(e.event.downstreamLocalAddress);
    case 'DOWNSTREAM_REMOTE_ADDRESS': case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT': case 'DOWNSTREAM_DIRECT_REMOTE_ADDRESS':
      return (e) => nonEmpty(e.event.downstreamRemoteAddress);
    case 'DOWNSTREAM_PEER_URI_SAN': return (e) => (e.event.peerPrincipal ? `spiffe://${e.event.peerPrincipal}` : undefined);
    case 'REQUESTED_SERVER_NAME': return (e) => nonEmpty(e.event.requestedServerName);
    case 'FILTER_STATE': return filterState(arg ?? '');
    case 'ROUTE_NAME': return (e) => (e.kind === 'http' ? nonEmpty(e.event.route) : undefined);
    case 'UPSTREAM_LOCAL_ADDRESS': case 'CONNECTION_TERMINATION_DETAILS': case 'UPSTREAM_TRANSPORT_FAILURE_REASON':
      return () => undefined;
    default: return undefined;
  }
}

const OPERATOR = /%([A-Z_]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/** One compiled operator, or the literal text between operators. */
type Part = string | Getter;

/** Compiles an Envoy format string; unknown operators are reported and print as unset. */
export function compileFormat(format: string, unknown: (op: string) => void = () => {}): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of format.matchAll(OPERATOR)) {
    const at = m.index;
    if (at > last) parts.push(format.slice(last, at).replace(/%%/g, '%'));
    const [whole, command = '', arg, max] = m;
    let get = operator(command, arg);
    if (!get) {
      unknown(whole);
      get = () => undefined;
    }
    if (max !== undefined) {
      const n = Number(max);
      const inner = get;
      get = (e) => { const v = inner(e); return typeof v === 'string' ? v.slice(0, n) : typeof v === 'object' ? JSON.stringify(v).slice(0, n) : v; };
    }
    parts.push(get);
    last = at + whole.length;
  }
  if (last < format.length) parts.push(format.slice(last).replace(/%%/g, '%'));
  return parts;
}

export function formatText(parts: readonly Part[], entry: LogEntry): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else {
      const v = p(entry);
      out += v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return out;
}

/** JSON with Envoy's typed values: a lone operator keeps its type; text mixed with operators is a string. */
export function compileJson(format: Readonly<Record<string, string>>, unknown?: (op: string) => void): (entry: LogEntry) => string {
  const keys = Object.keys(format).sort();
  const compiled = keys.map((k) => [k, compileFormat(format[k] ?? '', unknown)] as const);
  return (entry) => {
    const obj: Record<string, string | number | Typed | null> = {};
    for (const [k, parts] of compiled) {
      const only = parts.length === 1 ? parts[0] : undefined;
      if (typeof only === 'function') obj[k] = only(entry) ?? null;
      else obj[k] = formatText(parts, entry);
    }
    return `${JSON.stringify(obj)}\n`;
  };
}

/** The formatter for a mesh's accessLog settings. */
export function accessLogFormatter(settings: { encoding: 'TEXT' | 'JSON'; format?: string }, unknown?: (op: string) => void): (entry: LogEntry) => string {
  if (settings.encoding === 'JSON') {
    // A custom JSON format is a JSON object of key -> operator text, as Istio's accessLogFormat takes it.
    let format: Record<string, string> = { ...ISTIO_JSON_FORMAT };
    if (settings.format) {
      try {
        const parsed = JSON.parse(settings.format) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) format = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
      } catch {
        unknown?.(settings.format);
      }
    }
    return compileJson(format, unknown);
  }
  const text = settings.format ? (settings.format.endsWith('\n') ? settings.format : `${settings.format}\n`) : ISTIO_TEXT_FORMAT;
  const parts = compileFormat(text, unknown);
  return (entry) => formatText(parts, entry);
}
