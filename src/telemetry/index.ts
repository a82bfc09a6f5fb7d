/** The embedded trace store (control-plane side): Zipkin v2 and OTLP/HTTP JSON in, Zipkin's query API out. */
export { TraceServer, type TraceServerOptions } from './server.js';
export { TraceStore, type StoreLimits, type TraceQuery } from './store.js';
export type { Span, Endpoint, Annotation, SpanKind } from './span.js';
