/**
 * The trace store's span model: Zipkin's v2 span (zipkin-api zipkin2-api.yaml), which both
 * ingestion formats become and the query API returns, and its validation. Like Zipkin, ids and
 * names are stored lower-case, ids left-padded to 16 or 32 hex digits, and a span without a
 * valid trace id or id is rejected with the reason (`spans[3].traceId: ...`).
 */

export type SpanKind = 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';

export interface Endpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

export interface Annotation {
  /** Epoch microseconds. */
  timestamp: number;
  value: string;
}

export interface Span {
  traceId: string;
  parentId?: string;
  id: string;
  kind?: SpanKind;
  name?: string;
  /** Epoch microseconds. */
  timestamp?: number;
  /** Microseconds. */
  duration?: number;
  localEndpoint?: Endpoint;
  remoteEndpoint?: Endpoint;
  annotations?: Annotation[];
  tags?: Record<string, string>;
  debug?: boolean;
  shared?: boolean;
}

export class SpanFormatError extends Error {}

const KINDS = new Set<string>(['CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `abc` -> `0000000000000abc`; 17..32 digits pad to 32 (Zipkin's normalisation). */
export function normalizeId(v: unknown, at: string, traceId: boolean): string {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{1,32}$/.test(v) || (!traceId && v.length > 16)) {
    throw new SpanFormatError(`${at}: expected ${traceId ? '1 to 32' : '1 to 16'} hex digits, got ${JSON.stringify(v)}`);
  }
  const id = v.toLowerCase();
  const padded = id.length <= 16 ? id.padStart(16, '0') : id.padStart(32, '0');
  if (/^0+$/.test(padded)) throw new SpanFormatError(`${at}: must not be all zeros`);
  // A 128-bit id whose high half is zero is the 64-bit id (Zipkin drops the zeros too).
  return padded.length === 32 && padded.startsWith('0000000000000000') ? padded.slice(16) : padded;
}

function micros(v: unknown, at: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new SpanFormatError(`${at}: expected a non-negative number of microseconds`);
  return Math.round(n);
}

function endpoint(v: unknown, at: string): Endpoint | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new SpanFormatError(`${at}: expected an object`);
  const out: Endpoint = {};
  if (typeof v.serviceName === 'string' && v.serviceName !== '') out.serviceName = v.serviceName.toLowerCase();
  if (typeof v.ipv4 === 'string' && v.ipv4 !== '') out.ipv4 = v.ipv4;
  if (typeof v.ipv6 === 'string' && v.ipv6 !== '') out.ipv6 = v.ipv6;
  if (typeof v.port === 'number' && Number.isInteger(v.port) && v.port > 0 && v.port < 65536) out.port = v.port;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** One span of a Zipkin v2 JSON list, checked and normalised. */
export function parseZipkinSpan(v: unknown, at: string): Span {
  if (!isObject(v)) throw new SpanFormatError(`${at}: expected a span object`);
  const span: Span = { traceId: normalizeId(v.traceId, `${at}.traceId`, true), id: normalizeId(v.id, `${at}.id`, false) };
  if (v.parentId !== undefined && v.parentId !== null && v.parentId !== '') span.parentId = normalizeId(v.parentId, `${at}.parentId`, false);
  if (span.parentId === span.id) delete span.parentId;
  if (v.kind !== undefined && v.kind !== null) {
    if (typeof v.kind !== 'string' || !KINDS.has(v.kind)) throw new SpanFormatError(`${at}.kind: expected CLIENT, SERVER, PRODUCER or CONSUMER`);
    span.kind = v.kind as SpanKind;
  }
  if (typeof v.name === 'string' && v.name !== '') span.name = v.name.toLowerCase();
  const timestamp = micros(v.timestamp, `${at}.timestamp`);
  if (timestamp !== undefined && timestamp > 0) span.timestamp = timestamp;
  const duration = micros(v.duration, `${at}.duration`);
  if (duration !== undefined && duration > 0) span.duration = duration;
  const local = endpoint(v.localEndpoint, `${at}.localEndpoint`);
  if (local) span.localEndpoint = local;
  const remote = endpoint(v.remoteEndpoint, `${at}.remoteEndpoint`);
  if (remote) span.remoteEndpoint = remote;
  if (v.annotations !== undefined && v.annotations !== null) {
    if (!Array.isArray(v.annotations)) throw new SpanFormatError(`${at}.annotations: expected a list`);
    const annotations = v.annotations.map((a: unknown, i) => {
      if (!isObject(a) || typeof a.value !== 'string') throw new SpanFormatError(`${at}.annotations[${i}]: expected {timestamp, value}`);
      return { timestamp: micros(a.timestamp, `${at}.annotations[${i}].timestamp`) ?? 0, value: a.value };
    });
    if (annotations.length > 0) span.annotations = annotations.sort((a, b) => a.timestamp - b.timestamp);
  }
  if (v.tags !== undefined && v.tags !== null) {
    if (!isObject(v.tags)) throw new SpanFormatError(`${at}.tags: expected an object of strings`);
    const tags: Record<string, string> = {};
    for (const [k, value] of Object.entries(v.tags)) {
      if (typeof value === 'string') tags[k] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') tags[k] = String(value);
      else throw new SpanFormatError(`${at}.tags.${k}: expected a string`);
    }
    if (Object.keys(tags).length > 0) span.tags = tags;
  }
  if (v.debug === true) span.debug = true;
  if (v.shared === true) span.shared = true;
  return span;
}

/** A POSTed Zipkin v2 JSON body: a list of spans. */
export function parseZipkinSpans(body: unknown): Span[] {
  if (!Array.isArray(body)) throw new SpanFormatError('expected a JSON list of Zipkin v2 spans');
  return body.map((s: unknown, i) => parseZipkinSpan(s, `spans[${i}]`));
}
