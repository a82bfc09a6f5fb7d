/**
 * The request headers every demo service copies from the request it serves to the requests it
 * makes, as Istio's bookinfo does. A mesh can only join the spans of one request into a trace
 * (and route `end-user: jason` past the first hop) if the application carries these along;
 * the proxy cannot, because it never sees which inbound request caused an outbound one.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** In bookinfo's order and with its groups (reviews' LibertyRestEndpoint.java keeps the full list). */
export const FORWARDED_HEADERS: readonly string[] = [
  // Envoy's request id: access logs, consistent trace and log sampling.
  'x-request-id',
  // W3C Trace Context.
  'traceparent',
  'tracestate',
  // Zipkin B3, multi-header and single-header forms.
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  // Lightstep, Datadog, Cloud Trace, gRPC binary context, SkyWalking.
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'x-cloud-trace-context',
  'grpc-trace-bin',
  'sw8',
  // Application headers: the user routing rules match on, and the caller's identity and session.
  'end-user',
  'user-agent',
  'cookie',
  'authorization',
  'jwt',
];

/** The forwarded subset of `incoming`, values unchanged (joined if a header came more than once). */
export function forwardedHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of FORWARDED_HEADERS) {
    const value = incoming[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
  }
  return out;
}
