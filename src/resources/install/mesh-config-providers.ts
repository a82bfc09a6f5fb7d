/**
 * meshConfig.extensionProviders: named tracing, metrics, access-log and external authorization
 * backends that Telemetry and CUSTOM AuthorizationPolicy resources refer to by name. Every
 * provider of istio/api mesh/v1alpha1/config.proto (MeshConfig.ExtensionProvider) is modelled.
 */
import { z, duration, oneOf, uint32 } from '../schema.js';

/** A google.protobuf.Struct or a message Weft passes through without reading its fields. */
export const mapping = z.record(z.string(), z.unknown());

const port = uint32.max(65535, 'port number must be in 1..65535');

const httpHeader = oneOf({
  name: z.string().optional(),
  value: z.string().optional(),
  envName: z.string().optional(),
}, ['value', 'envName'], false);

const httpService = z.strictObject({
  path: z.string().optional(),
  timeout: duration().optional(),
  headers: z.array(httpHeader).optional(),
});

const grpcService = z.strictObject({
  timeout: duration().optional(),
  initialMetadata: z.array(httpHeader).optional(),
});

const requestBody = z.strictObject({
  maxRequestBytes: uint32.optional(),
  allowPartialMessage: z.boolean().optional(),
  packAsBytes: z.boolean().optional(),
});

export const envoyExtAuthzHttp = z.strictObject({
  service: z.string().optional(),
  port: port.optional(),
  timeout: duration().optional(),
  pathPrefix: z.string().optional(),
  failOpen: z.boolean().optional(),
  clearRouteCache: z.boolean().optional(),
  statusOnError: z.string().optional(),
  /** @deprecated use includeRequestHeadersInCheck. */
  includeHeadersInCheck: z.array(z.string()).optional(),
  includeRequestHeadersInCheck: z.array(z.string()).optional(),
  includeAdditionalHeadersInCheck: z.record(z.string(), z.string()).optional(),
  includeRequestBodyInCheck: requestBody.optional(),
  headersToUpstreamOnAllow: z.array(z.string()).optional(),
  headersToDownstreamOnDeny: z.array(z.string()).optional(),
  headersToDownstreamOnAllow: z.array(z.string()).optional(),
});

export const envoyExtAuthzGrpc = z.strictObject({
  service: z.string().optional(),
  port: port.optional(),
  timeout: duration().optional(),
  failOpen: z.boolean().optional(),
  clearRouteCache: z.boolean().optional(),
  statusOnError: z.string().optional(),
  includeRequestBodyInCheck: requestBody.optional(),
});

export const zipkinProvider = z.strictObject({
  service: z.string().optional(),
  port: port.optional(),
  maxTagLength: uint32.optional(),
  enable64bitTraceId: z.boolean().optional(),
  path: z.string().optional(),
  traceContextOption: z.enum(['USE_B3', 'USE_B3_WITH_W3C_PROPAGATION']).optional(),
  timeout: duration().optional(),
  headers: z.array(httpHeader).optional(),
});

const servicePort = { service: z.string().optional(), port: port.optional() };

export const openTelemetryTracingProvider = z.strictObject({
  ...servicePort,
  maxTagLength: uint32.optional(),
  http: httpService.optional(),
  grpc: grpcService.optional(),
  resourceDetectors: z.strictObject({ environment: z.strictObject({}).optional(), dynatrace: z.strictObject({}).optional() }).optional(),
  serviceAttributeEnrichment: z.enum(['ISTIO_CANONICAL', 'OTEL_SEMANTIC_CONVENTIONS']).optional(),
  dynatraceSampler: z.strictObject({
    tenant: z.string().optional(),
    clusterId: z.number().int().optional(),
    rootSpansPerMinute: uint32.optional(),
    httpService: z.strictObject({ ...servicePort, http: httpService.optional() }).optional(),
  }).optional(),
});

const logFormat = z.strictObject({ text: z.string().optional(), labels: mapping.optional() });

export const envoyFileAccessLog = z.strictObject({
  path: z.string().optional(),
  logFormat: oneOf({ text: z.string().optional(), labels: mapping.optional() }, ['text', 'labels'], false).optional(),
  omitEmptyValues: z.boolean().optional(),
});

const grpcLog = {
  ...servicePort,
  logName: z.string().optional(),
  filterStateObjectsToLog: z.array(z.string()).optional(),
};

const providerFields = {
  envoyExtAuthzHttp: envoyExtAuthzHttp.optional(),
  envoyExtAuthzGrpc: envoyExtAuthzGrpc.optional(),
  zipkin: zipkinProvider.optional(),
  /** @deprecated Lightstep now uses OpenTelemetry. */
  lightstep: z.strictObject({ ...servicePort, accessToken: z.string().optional(), maxTagLength: uint32.optional() }).optional(),
  datadog: z.strictObject({ ...servicePort, maxTagLength: uint32.optional() }).optional(),
  stackdriver: z.strictObject({
    /** @deprecated */
    debug: z.boolean().optional(),
    /** @deprecated */
    maxNumberOfAttributes: z.number().int().optional(),
    /** @deprecated */
    maxNumberOfAnnotations: z.number().int().optional(),
    /** @deprecated */
    maxNumberOfMessageEvents: z.number().int().optional(),
    maxTagLength: uint32.optional(),
    logging: z.strictObject({ labels: z.record(z.string(), z.string()).optional() }).optional(),
  }).optional(),
  /** @deprecated OpenCensus is no longer maintained. */
  opencensus: z.strictObject({
    ...servicePort,
    context: z.array(z.enum(['UNSPECIFIED', 'W3C_TRACE_CONTEXT', 'GRPC_BIN', 'CLOUD_TRACE_CONTEXT', 'B3'])).optional(),
    maxTagLength: uint32.optional(),
  }).optional(),
  skywalking: z.strictObject({ ...servicePort, accessToken: z.string().optional() }).optional(),
  opentelemetry: openTelemetryTracingProvider.optional(),
  prometheus: z.strictObject({}).optional(),
  envoyFileAccessLog: envoyFileAccessLog.optional(),
  envoyHttpAls: z.strictObject({
    ...grpcLog,
    additionalRequestHeadersToLog: z.array(z.string()).optional(),
    additionalResponseHeadersToLog: z.array(z.string()).optional(),
    additionalResponseTrailersToLog: z.array(z.string()).optional(),
  }).optional(),
  envoyTcpAls: z.strictObject(grpcLog).optional(),
  envoyOtelAls: z.strictObject({ ...servicePort, logName: z.string().optional(), logFormat: logFormat.optional() }).optional(),
  sds: z.strictObject({ name: z.string().optional(), service: z.string().optional(), port: port.optional() }).optional(),
};

const PROVIDER_KINDS = Object.keys(providerFields) as (keyof typeof providerFields)[];

/**
 * A named provider: `name` plus one provider object. Istio only logs a provider with none
 * ("can be ignored if the given extension provider is not used"), so that is a warning, given
 * by the mesh config checks.
 */
export const extensionProvider = oneOf({
  name: z.string().min(1, 'extension provider name must not be empty'),
  ...providerFields,
}, PROVIDER_KINDS, false);
export type ExtensionProvider = z.output<typeof extensionProvider>;

/** The provider object's field name (`zipkin`, `envoyExtAuthzHttp`, ...) of an extension provider. */
export function providerKind(p: ExtensionProvider): keyof typeof providerFields | undefined {
  return PROVIDER_KINDS.find((k) => p[k] !== undefined);
}

export const defaultProviders = z.strictObject({
  tracing: z.array(z.string()).optional(),
  metrics: z.array(z.string()).optional(),
  accessLogging: z.array(z.string()).optional(),
});
