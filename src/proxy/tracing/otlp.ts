/**
 * Spans as an OTLP ExportTraceServiceRequest in OTLP/HTTP's JSON encoding (opentelemetry-proto
 * trace/v1: hex ids, nanosecond times as decimal strings, enum numbers), what an opentelemetry
 * extension provider with `http` receives. The proxy builds Zipkin-shaped spans (span.ts); this maps
 * them the way OpenTelemetry's Zipkin receiver does in reverse: the local service is the resource's
 * `service.name`, tags become attributes, the `error` tag an ERROR status (its value the message), the remote endpoint
 * `peer.service` and `net.peer.ip`/`net.peer.port`. 64-bit Zipkin trace ids are left-padded to 128.
 */
import type { ZipkinSpan } from './span.js';

interface KeyValue {
  key: string;
  value: { stringValue: string } | { intValue: string };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  /** 2 ERROR (its message the Zipkin `error` tag's value), 0 UNSET. */
  status: { code: number; message?: string };
}

export interface OtlpTraceRequest {
  resourceSpans: { resource: { attributes: KeyValue[] }; scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[];
}

const KIND: Record<ZipkinSpan['kind'], number> = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

export function otlpSpan(span: ZipkinSpan): OtlpSpan {
  const start = BigInt(Math.round(span.timestamp)) * 1000n;
  const attributes: KeyValue[] = [];
  for (const [k, v] of Object.entries(span.tags)) if (k !== 'error') attributes.push(str(k, v));
  const remote = span.remoteEndpoint;
  if (remote?.serviceName) attributes.push(str('peer.service', remote.serviceName));
  const ip = remote?.ipv4 ?? remote?.ipv6;
  if (ip) attributes.push(str('net.peer.ip', ip));
  if (remote?.port) attributes.push({ key: 'net.peer.port', value: { intValue: String(remote.port) } });
  return {
    traceId: span.traceId.padStart(32, '0'),
    spanId: span.id,
    ...(span.parentId !== undefined ? { parentSpanId: span.parentId } : {}),
    name: span.name,
    kind: KIND[span.kind],
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + BigInt(Math.round(span.duration)) * 1000n).toString(),
    attributes,
    status: span.tags.error !== undefined ? { code: 2, message: span.tags.error } : { code: 0 },
  };
}

/** One request for a batch, spans grouped by their service (one resource each). */
export function otlpTraceRequest(batch: readonly ZipkinSpan[]): OtlpTraceRequest {
  const byService = new Map<string, OtlpSpan[]>();
  for (const span of batch) {
    const service = span.localEndpoint.serviceName ?? 'unknown';
    let spans = byService.get(service);
    if (!spans) byService.set(service, (spans = []));
    spans.push(otlpSpan(span));
  }
  return {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [str('service.name', service)] },
      scopeSpans: [{ scope: { name: 'weft-proxy' }, spans }],
    })),
  };
}
