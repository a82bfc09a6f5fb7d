/**
 * Trace context on the wire: W3C Trace Context (`traceparent`, `tracestate`) and Zipkin's B3, in
 * both its multi-header (`x-b3-*`) and single-header (`b3`) forms, read from a request and written
 * to the request the proxy sends on. Pure functions over header maps, so they are tested alone.
 *
 * Read order follows Envoy's Zipkin tracer, which Istio configures: B3 multi-header, then the
 * single `b3`, then `traceparent`. A sampling decision without ids (`x-b3-sampled: 0`, `b3: 0`)
 * is honoured for the new trace the proxy then starts.
 */
import { randomBytes } from 'node:crypto';

/** What arrived: ids when the caller had a trace, and its sampling decision when it made one. */
export interface IncomingContext {
  /** 32 (or 16, B3's 64-bit form) lower-case hex digits; absent when only a decision came. */
  traceId?: string;
  /** The caller's span, which becomes the parent of this proxy's span. */
  spanId?: string;
  sampled?: boolean;
  debug: boolean;
  tracestate?: string;
  /** The caller used the single `b3` header, so it is written back in that form too. */
  b3Single: boolean;
}

/** This proxy's span for one request or connection: the ids it records and sends upstream. */
export interface SpanContext {
  traceId: string;
  spanId: string;
  parentId: string | undefined;
  sampled: boolean;
  debug: boolean;
  b3Single: boolean;
}

type Headers = Record<string, string | string[] | undefined>;

const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const ZERO16 = '0000000000000000';
const ZERO32 = ZERO16 + ZERO16;

function one(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined ? undefined : s.trim().toLowerCase();
}

function traceIdOk(id: string | undefined): id is string {
  return id !== undefined && (HEX32.test(id) || HEX16.test(id)) && id !== ZERO32 && id !== ZERO16;
}

function spanIdOk(id: string | undefined): id is string {
  return id !== undefined && HEX16.test(id) && id !== ZERO16;
}

function b3Sampled(v: string | undefined): boolean | undefined {
  if (v === '1' || v === 'true' || v === 'd') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** The trace context a request carries, or undefined when it carries none (or only garbage). */
export function extractContext(headers: Headers): IncomingContext | undefined {
  return extractB3Multi(headers) ?? extractB3Single(headers) ?? extractW3c(headers);
}

function extractB3Multi(headers: Headers): IncomingContext | undefined {
  const traceId = one(headers, 'x-b3-traceid');
  const spanId = one(headers, 'x-b3-spanid');
  const debug = one(headers, 'x-b3-flags') === '1';
  const sampled = debug ? true : b3Sampled(one(headers, 'x-b3-sampled'));
  if (traceIdOk(traceId) && spanIdOk(spanId)) return { traceId, spanId, ...(sampled !== undefined ? { sampled } : {}), debug, b3Single: false };
  if (sampled !== undefined) return { sampled, debug, b3Single: false };
  return undefined;
}

/** `b3: {traceid}-{spanid}[-{sampled}[-{parentspanid}]]`, or a bare decision `b3: 0|1|d`. */
function extractB3Single(headers: Headers): IncomingContext | undefined {
  const value = one(headers, 'b3');
  if (value === undefined || value === '') return undefined;
  const parts = value.split('-');
  if (parts.length === 1) {
    const sampled = b3Sampled(parts[0]);
    return sampled === undefined ? undefined : { sampled, debug: parts[0] === 'd', b3Single: true };
  }
  const [traceId, spanId, flag] = parts;
  if (!traceIdOk(traceId) || !spanIdOk(spanId)) return undefined;
  const sampled = b3Sampled(flag);
  return { traceId, spanId, ...(sampled !== undefined ? { sampled } : {}), debug: flag === 'd', b3Single: true };
}

/** `traceparent: 00-{trace-id}-{parent-id}-{flags}`; later versions are read by the same prefix. */
function extractW3c(headers: Headers): IncomingContext | undefined {
  const value = one(headers, 'traceparent');
  if (value === undefined) return undefined;
  const [version, traceId, spanId, flags] = value.split('-');
  if (version === undefined || !/^[0-9a-f]{2}$/.test(version) || version === 'ff') return undefined;
  if (version === '00' && value.length !== 55) return undefined;
  if (!traceId || !HEX32.test(traceId) || traceId === ZERO32 || !spanIdOk(spanId) || flags === undefined || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  const tracestate = headers.tracestate;
  return {
    traceId,
    spanId,
    sampled: (parseInt(flags, 16) & 1) === 1,
    debug: false,
    ...(tracestate !== undefined ? { tracestate: Array.isArray(tracestate) ? tracestate.join(',') : tracestate } : {}),
    b3Single: false,
  };
}

// Ids come from a pool of random bytes refilled 4 KiB at a time: one randomBytes call per id
// would cost more than the rest of a request's tracing together.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let used = 0;

function randomHex(bytes: number): string {
  if (used + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

export function newSpanId(): string {
  const id = randomHex(8);
  return id === ZERO16 ? newSpanId() : id;
}

export function newTraceId(): string {
  const id = randomHex(16);
  return id === ZERO32 ? newTraceId() : id;
}

/**
 * This proxy's span: a child of the incoming one, in the incoming trace, with its decision; or
 * the root of a new trace, sampled `samplingPercent` of the time (`random` is [0, 1)).
 */
export function childContext(incoming: IncomingContext | undefined, samplingPercent: number, random: () => number = Math.random): SpanContext {
  const sampled = incoming?.sampled ?? random() * 100 < samplingPercent;
  return {
    traceId: incoming?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    parentId: incoming?.traceId !== undefined ? incoming.spanId : undefined,
    sampled,
    debug: incoming?.debug ?? false,
    b3Single: incoming?.b3Single ?? false,
  };
}

/**
 * Writes `ctx` into the headers of the request going upstream: `traceparent` and the B3
 * multi-headers always (an app forwarding either keeps the trace), `b3` when the caller used it.
 * `tracestate` was copied with the other request headers and stays as it came.
 */
export function injectContext(headers: Headers, ctx: SpanContext): void {
  const sampledFlag = ctx.sampled ? '1' : '0';
  headers.traceparent = `00-${ctx.traceId.padStart(32, '0')}-${ctx.spanId}-0${sampledFlag}`;
  headers['x-b3-traceid'] = ctx.traceId;
  headers['x-b3-spanid'] = ctx.spanId;
  if (ctx.parentId !== undefined) headers['x-b3-parentspanid'] = ctx.parentId;
  else delete headers['x-b3-parentspanid'];
  // Debug implies sampled; B3 says not to send both.
  if (ctx.debug) {
    headers['x-b3-flags'] = '1';
    delete headers['x-b3-sampled'];
  } else {
    headers['x-b3-sampled'] = sampledFlag;
    delete headers['x-b3-flags'];
  }
  if (ctx.b3Single) headers.b3 = `${ctx.traceId}-${ctx.spanId}-${ctx.debug ? 'd' : sampledFlag}${ctx.parentId !== undefined ? `-${ctx.parentId}` : ''}`;
}
