/**
 * The request path's two tracing hooks, so forward.ts and handler.ts each call one function:
 * when the request goes upstream, this proxy's span is decided (child of the caller's, or a new
 * trace sampled per meshConfig) and its ids written into the upstream headers; when the request
 * ends, the sampled span's context and its operation name go into the request event for the
 * tracer. A mesh without tracing (`enableTracing: false`) touches no header.
 */
import type { ListenerDirection, MeshRuntimeConfig, StringMatcher, TracingSettings } from '../../proxy-config/index.js';
import type { Exchange } from '../http/exchange.js';
import { childContext, extractContext, injectContext, type SpanContext } from './context.js';

/** A sampled span of one request, as the request event carries it. */
export interface RequestTrace extends SpanContext {
  /** The span name, Istio's route decorator: `reviews.default.svc.cluster.local:9080/*`. */
  operation: string;
  /** Envoy's `http.url` tag: the scheme the client used, the Host and the path, at most 256 characters. */
  url: string;
  /** Epoch microseconds when the request's headers arrived (the event's startTime is whole milliseconds). */
  startMicros: number;
}

/** The tracing of one side: Telemetry may give the server side (inbound) its own. */
export function tracingSettings(mesh: MeshRuntimeConfig, direction: ListenerDirection): TracingSettings | undefined {
  if (direction === 'inbound' && mesh.inboundTracing !== undefined) return mesh.inboundTracing ?? undefined;
  return mesh.tracing;
}

function spanOf(ex: Exchange, samplingPercent: number): SpanContext {
  return (ex.trace ??= childContext(extractContext(ex.req.headers), samplingPercent));
}

/** In requestHeadersStep: this proxy's span ids go upstream, so the next hop's span is its child. */
export function traceUpstreamHeaders(ex: Exchange, headers: Record<string, string | string[] | undefined>): void {
  const tracing = tracingSettings(ex.snapshot.config.mesh, ex.listener.direction);
  if (tracing === undefined) return;
  injectContext(headers, spanOf(ex, tracing.samplingPercent));
}

/** When the request ends (local replies too, as Envoy records them): the span, if sampled. */
export function requestTrace(ex: Exchange): RequestTrace | undefined {
  const tracing = tracingSettings(ex.snapshot.config.mesh, ex.listener.direction);
  if (tracing === undefined) return undefined;
  const span = spanOf(ex, tracing.samplingPercent);
  if (!span.sampled) return undefined;
  return {
    ...span,
    operation: operationName(ex),
    url: `${ex.scheme}://${ex.authority}${ex.rawPath}`.slice(0, 256),
    startMicros: Math.round((performance.timeOrigin + ex.startedAt) * 1000),
  };
}

/**
 * Istio's route decorator (route.go getRouteOperation, inbound traceOperation): the destination
 * service's `host:port` and the route's path (`/*`, a prefix with `*`, the exact path or the
 * regex); the VirtualService's name when the route splits over several destinations.
 */
export function operationName(ex: Exchange): string {
  const route = ex.route;
  const cluster = ex.snapshot.clusters.get(ex.cluster);
  if (ex.listener.direction === 'inbound') {
    const service = cluster?.service;
    return `${service?.host ?? hostOf(ex.authority)}:${service?.port ?? ex.port}/*`;
  }
  const path = pathOf(route?.match.path);
  if (route?.action.kind === 'forward' && route.action.clusters.length > 1) {
    return `${route.source?.name ?? route.name}:${ex.port}${path}`;
  }
  const service = cluster?.service;
  if (service !== undefined) return `${service.host}:${service.port}${path}`;
  return `${hostOf(ex.authority)}:${ex.port}${path}`;
}

function pathOf(m: StringMatcher | undefined): string {
  if (m === undefined) return '/*';
  if ('exact' in m) return m.exact;
  if ('prefix' in m) return `${m.prefix}*`;
  if ('regex' in m) return m.regex;
  return '/*';
}

function hostOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}
