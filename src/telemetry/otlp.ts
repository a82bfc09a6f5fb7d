/**
 * OTLP/HTTP JSON (`POST /v1/traces`, an ExportTraceServiceRequest) as Zipkin spans, mapped the
 * way OpenTelemetry's Zipkin exporter maps them: `service.name` becomes the local service, the
 * span kind the Zipkin kind (INTERNAL has none), attributes become tags, events annotations, an
 * ERROR status the `error` tag, `peer.service` the remote service. Ids are hex as the OTLP JSON
 * encoding says; base64 (what protobuf's JSON mapping would give) is accepted too.
 */
import { SpanFormatError, normalizeId, type Endpoint, type Span, type SpanKind } from './span.js';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(v: unknown, at: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new SpanFormatError(`${at}: expected a list`);
  return v;
}

const KIND_BY_NUMBER: (SpanKind | undefined)[] = [undefined, undefined, 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const KIND_BY_NAME: Record<string, SpanKind | undefined> = { SPAN_KIND_SERVER: 'SERVER', SPAN_KIND_CLIENT: 'CLIENT', SPAN_KIND_PRODUCER: 'PRODUCER', SPAN_KIND_CONSUMER: 'CONSUMER' };

/** An OTLP id: hex, or base64 of the raw bytes. */
function otlpId(v: unknown, bytes: number, at: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new SpanFormatError(`${at}: expected a hex string`);
  if (v.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(v)) return normalizeId(v, at, bytes === 16);
  const raw = Buffer.from(v, 'base64');
  if (raw.length === bytes) return normalizeId(raw.toString('hex'), at, bytes === 16);
  throw new SpanFormatError(`${at}: expected ${bytes * 2} hex digits, got ${JSON.stringify(v)}`);
}

/** An AnyValue as a tag string. */
function anyValue(v: unknown): string {
  if (!isObject(v)) return '';
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (isObject(v.arrayValue)) return JSON.stringify(list(v.arrayValue.values, 'arrayValue.values').map(anyValue));
  if (isObject(v.kvlistValue)) return JSON.stringify(Object.fromEntries(attributes(v.kvlistValue.values, 'kvlistValue.values')));
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  return '';
}

function attributes(v: unknown, at: string): [string, string][] {
  return list(v, at).flatMap((kv) => (isObject(kv) && typeof kv.key === 'string' ? [[kv.key, anyValue(kv.value)] as [string, string]] : []));
}

/** Nanoseconds (a decimal string in OTLP JSON) to microseconds. */
function nanosToMicros(v: unknown): number | undefined {
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(BigInt(v) / 1000n);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v / 1000);
  return undefined;
}

/** Every span of an ExportTraceServiceRequest in JSON. */
export function parseOtlpTraces(body: unknown): Span[] {
  if (!isObject(body)) throw new SpanFormatError('expected an OTLP ExportTraceServiceRequest object with resourceSpans');
  const out: Span[] = [];
  list(body.resourceSpans, 'resourceSpans').forEach((rs, i) => {
    const at = `resourceSpans[${i}]`;
    if (!isObject(rs)) throw new SpanFormatError(`${at}: expected an object`);
    const resource = new Map(attributes(isObject(rs.resource) ? rs.resource.attributes : undefined, `${at}.resource.attributes`));
    const serviceName = (resource.get('service.name') ?? 'unknown_service').toLowerCase();
    const scopes = list(rs.scopeSpans ?? rs.instrumentationLibrarySpans, `${at}.scopeSpans`);
    scopes.forEach((ss, j) => {
      if (!isObject(ss)) return;
      const scope = isObject(ss.scope) ? ss.scope : isObject(ss.instrumentationLibrary) ? ss.instrumentationLibrary : undefined;
      list(ss.spans, `${at}.scopeSpans[${j}].spans`).forEach((s, k) => out.push(toSpan(s, `${at}.scopeSpans[${j}].spans[${k}]`, serviceName, scope)));
    });
  });
  return out;
}

function toSpan(s: unknown, at: string, serviceName: string, scope: Json | undefined): Span {
  if (!isObject(s)) throw new SpanFormatError(`${at}: expected a span object`);
  const traceId = otlpId(s.traceId, 16, `${at}.traceId`);
  const id = otlpId(s.spanId, 8, `${at}.spanId`);
  if (traceId === undefined || id === undefined) throw new SpanFormatError(`${at}: traceId and spanId are required`);
  const span: Span = { traceId, id };
  const parentId = otlpId(s.parentSpanId, 8, `${at}.parentSpanId`);
  if (parentId !== undefined && parentId !== id) span.parentId = parentId;
  const kind = typeof s.kind === 'number' ? KIND_BY_NUMBER[s.kind] : typeof s.kind === 'string' ? KIND_BY_NAME[s.kind] : undefined;
  if (kind) span.kind = kind;
  if (typeof s.name === 'string' && s.name !== '') span.name = s.name.toLowerCase();
  const start = nanosToMicros(s.startTimeUnixNano);
  const end = nanosToMicros(s.endTimeUnixNano);
  if (start !== undefined && start > 0) span.timestamp = start;
  if (start !== undefined && end !== undefined && end > start) span.duration = end - start;
  const tags = new Map(attributes(s.attributes, `${at}.attributes`));
  if (scope && typeof scope.name === 'string' && scope.name !== '') tags.set('otel.scope.name', scope.name);
  if (scope && typeof scope.version === 'string' && scope.version !== '') tags.set('otel.scope.version', scope.version);
  const status = isObject(s.status) ? s.status : undefined;
  const code = status?.code;
  if (code === 2 || code === 'STATUS_CODE_ERROR') {
    tags.set('otel.status_code', 'ERROR');
    tags.set('error', typeof status?.message === 'string' ? status.message : '');
  } else if (code === 1 || code === 'STATUS_CODE_OK') tags.set('otel.status_code', 'OK');
  span.localEndpoint = { serviceName };
  const remote = remoteEndpoint(tags);
  if (remote) span.remoteEndpoint = remote;
  if (tags.size > 0) span.tags = Object.fromEntries(tags);
  const annotations = list(s.events, `${at}.events`).flatMap((e) => (isObject(e) && typeof e.name === 'string' ? [{ timestamp: nanosToMicros(e.timeUnixNano) ?? 0, value: e.name }] : []));
  if (annotations.length > 0) span.annotations = annotations.sort((a, b) => a.timestamp - b.timestamp);
  return span;
}

function remoteEndpoint(tags: Map<string, string>): Endpoint | undefined {
  const out: Endpoint = {};
  const service = tags.get('peer.service');
  if (service) out.serviceName = service.toLowerCase();
  const ip = tags.get('net.peer.ip') ?? tags.get('network.peer.address') ?? tags.get('server.address');
  if (ip && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) out.ipv4 = ip;
  else if (ip && ip.includes(':')) out.ipv6 = ip;
  const port = Number(tags.get('net.peer.port') ?? tags.get('network.peer.port') ?? tags.get('server.port'));
  if (Number.isInteger(port) && port > 0 && port < 65536) out.port = port;
  return Object.keys(out).length > 0 ? out : undefined;
}
