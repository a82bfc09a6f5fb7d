/**
 * The VirtualService model: every field of istio/api networking/v1alpha3/virtual_service.proto,
 * as the CRD accepts it (lowerCamelCase names, Go durations, nullable wrappers). Deprecated
 * spellings are accepted and folded into the current field, so later code reads one field:
 * fault `percent` into `percentage`, `mirrorPercent` (or `mirror_percent`) into `mirrorPercentage`, CORS `allowOrigin`
 * into `allowOrigins`. The deprecated fields stay in the model only so validation can warn.
 */
import { z, duration, percent, oneOf, stringMatch, labels, stringMap, uint32, int32, type StringMatch } from '../schema.js';

/** A duration Istio accepts: at least 1ms and a whole number of milliseconds (ValidateDuration). */
export const msDuration = duration().refine((ms) => Number.isInteger(ms), 'only durations to ms precision are supported');

/** A protobuf BoolValue: the CRD marks it nullable, and null means unset. */
const optionalBool = z.boolean().optional();

const strings = z.array(z.string());

/** Istio's Percent message: a double in [0, 100]. */
export type Percent = z.output<typeof percent>;

/**
 * A StringMatch whose regex is checked in validation rather than here: `withoutHeaders` accepts
 * `regex: "*"` (not RE2) as a presence match.
 */
const looseStringMatch = oneOf(
  { exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() },
  ['exact', 'prefix', 'regex'],
  false,
);

const portSelector = z.strictObject({ number: uint32.optional() });

export const destination = z.strictObject({
  host: z.string(),
  subset: z.string().optional(),
  /** Required when the destination service exposes several ports. */
  port: portSelector.optional(),
});
export type Destination = z.output<typeof destination>;

const headerOperations = z.strictObject({
  set: stringMap.optional(),
  add: stringMap.optional(),
  remove: strings.optional(),
});
export type HeaderOperations = z.output<typeof headerOperations>;

export const headers = z.strictObject({
  request: headerOperations.optional(),
  response: headerOperations.optional(),
});
export type Headers = z.output<typeof headers>;

export const httpMatchRequest = z.strictObject({
  name: z.string().optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  /** Keys are header names, or `@request.auth.claims.<claim>` for JWT claims. */
  headers: z.record(z.string(), stringMatch).optional(),
  /** 0 or absent: any port. */
  port: uint32.optional(),
  sourceLabels: labels.optional(),
  gateways: strings.optional(),
  queryParams: z.record(z.string(), stringMatch).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: z.record(z.string(), looseStringMatch).optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});
export type HTTPMatchRequest = z.output<typeof httpMatchRequest>;

export const httpRouteDestination = z.strictObject({
  destination,
  weight: int32.optional(),
  headers: headers.optional(),
});
export type HTTPRouteDestination = z.output<typeof httpRouteDestination>;

export const routeDestination = z.strictObject({
  destination,
  weight: int32.optional(),
});
export type RouteDestination = z.output<typeof routeDestination>;

export const httpRedirect = oneOf(
  {
    uri: z.string().optional(),
    authority: z.string().optional(),
    port: uint32.optional(),
    derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
    scheme: z.string().optional(),
    /** Default 301. */
    redirectCode: uint32.optional(),
    prefixRewrite: z.string().optional(),
  },
  ['port', 'derivePort'],
  false,
);
export type HTTPRedirect = z.output<typeof httpRedirect>;

const httpBody = oneOf(
  {
    string: z.string().optional(),
    /** Base64 text, as protobuf `bytes` are written in JSON and YAML. */
    bytes: z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'bytes must be base64-encoded').optional(),
  },
  ['string', 'bytes'],
  false,
);

export const httpDirectResponse = z.strictObject({
  status: uint32,
  body: httpBody.optional(),
});
export type HTTPDirectResponse = z.output<typeof httpDirectResponse>;

export const delegate = z.strictObject({
  name: z.string().optional(),
  /** Defaults to the namespace of the root VirtualService. */
  namespace: z.string().optional(),
});
export type Delegate = z.output<typeof delegate>;

export const httpRewrite = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegexRewrite: z.strictObject({ match: z.string().optional(), rewrite: z.string().optional() }).optional(),
});
export type HTTPRewrite = z.output<typeof httpRewrite>;

export const httpRetry = z.strictObject({
  attempts: int32.optional(),
  perTryTimeout: msDuration.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: optionalBool,
  retryIgnorePreviousHosts: optionalBool,
  backoff: msDuration.optional(),
});
export type HTTPRetry = z.output<typeof httpRetry>;

/** The deprecated integer percent (0-100) of older Istio releases. */
const deprecatedPercent = int32.superRefine((v, ctx) => {
  if (v < 0 || v > 100) ctx.addIssue({ code: 'custom', message: `percentage ${v} is not in range 0..100` });
});

/** Folds the deprecated integer `percent` into `percentage` when `percentage` is absent. */
function withPercentage<T extends { percent?: number | undefined; percentage?: Percent | undefined }>(v: T): T & { percentage?: Percent } {
  if (v.percentage !== undefined || v.percent === undefined) return v;
  return { ...v, percentage: { value: v.percent } };
}

export const faultDelay = oneOf(
  {
    /** @deprecated Use `percentage`, which is normalised from this when absent. */
    percent: deprecatedPercent.optional(),
    fixedDelay: msDuration.optional(),
    exponentialDelay: msDuration.optional(),
    /** Absent (and no `percent`): 0%, as Istio translates it. */
    percentage: percent.optional(),
  },
  ['fixedDelay', 'exponentialDelay'],
  false,
).transform(withPercentage);

export const faultAbort = oneOf(
  {
    /**
     * @deprecated Removed from Istio's current API but still in older samples (bookinfo's
     * ratings-test-abort); accepted and normalised into `percentage`.
     */
    percent: deprecatedPercent.optional(),
    httpStatus: int32.optional(),
    grpcStatus: z.string().optional(),
    http2Error: z.string().optional(),
    percentage: percent.optional(),
  },
  ['httpStatus', 'grpcStatus', 'http2Error'],
  false,
).transform(withPercentage);

export const httpFaultInjection = z.strictObject({
  delay: faultDelay.optional(),
  abort: faultAbort.optional(),
});
export type HTTPFaultInjection = z.output<typeof httpFaultInjection>;
export type FaultDelay = z.output<typeof faultDelay>;
export type FaultAbort = z.output<typeof faultAbort>;

export const httpMirrorPolicy = z.strictObject({
  destination,
  /** Absent: 100%. */
  percentage: percent.optional(),
});
export type HTTPMirrorPolicy = z.output<typeof httpMirrorPolicy>;

export const corsPolicy = z.strictObject({
  /** @deprecated Use `allowOrigins`, which is normalised from this (as exact matches) when absent. */
  allowOrigin: strings.optional(),
  allowOrigins: z.array(stringMatch).optional(),
  allowMethods: strings.optional(),
  allowHeaders: strings.optional(),
  exposeHeaders: strings.optional(),
  maxAge: msDuration.optional(),
  allowCredentials: optionalBool,
  unmatchedPreflights: z.enum(['UNSPECIFIED', 'FORWARD', 'IGNORE']).optional(),
}).transform((c) => {
  if (c.allowOrigins !== undefined || c.allowOrigin === undefined) return c;
  return { ...c, allowOrigins: c.allowOrigin.map((exact): StringMatch => ({ exact })) };
});
export type CorsPolicy = z.output<typeof corsPolicy>;

/** UInt32Value, nullable in the CRD; Istio rejects values above 100. */
const mirrorPercentValue = uint32.nullish()
  .superRefine((v, ctx) => {
    if (typeof v === 'number' && v > 100) ctx.addIssue({ code: 'custom', message: `mirrorPercent must have a max value of 100 (it has ${v})` });
  })
  .transform((v) => v ?? undefined);

export const httpRoute = z.strictObject({
  name: z.string().optional(),
  match: z.array(httpMatchRequest).optional(),
  route: z.array(httpRouteDestination).optional(),
  redirect: httpRedirect.optional(),
  directResponse: httpDirectResponse.optional(),
  delegate: delegate.optional(),
  rewrite: httpRewrite.optional(),
  /** Milliseconds; absent: no timeout (Istio disables Envoy's route timeout). */
  timeout: msDuration.optional(),
  retries: httpRetry.optional(),
  fault: httpFaultInjection.optional(),
  mirror: destination.optional(),
  mirrors: z.array(httpMirrorPolicy).optional(),
  /** @deprecated Use `mirrorPercentage`, which is normalised from this when absent. */
  mirrorPercent: mirrorPercentValue,
  /** @deprecated The proto field name of `mirrorPercent`, which the CRD also accepts. */
  mirror_percent: mirrorPercentValue,
  /** Absent (and no deprecated percent): 100% of requests are mirrored. */
  mirrorPercentage: percent.optional(),
  corsPolicy: corsPolicy.optional(),
  headers: headers.optional(),
}).transform((r) => {
  const legacy = r.mirrorPercent ?? r.mirror_percent;
  if (r.mirrorPercentage !== undefined || legacy === undefined) return r;
  return { ...r, mirrorPercentage: { value: legacy } };
});
export type HTTPRoute = z.output<typeof httpRoute>;

export const tlsMatchAttributes = z.strictObject({
  sniHosts: strings,
  destinationSubnets: strings.optional(),
  port: uint32.optional(),
  sourceLabels: labels.optional(),
  gateways: strings.optional(),
  sourceNamespace: z.string().optional(),
});
export type TLSMatchAttributes = z.output<typeof tlsMatchAttributes>;

export const l4MatchAttributes = z.strictObject({
  destinationSubnets: strings.optional(),
  port: uint32.optional(),
  sourceSubnet: z.string().optional(),
  sourceLabels: labels.optional(),
  gateways: strings.optional(),
  sourceNamespace: z.string().optional(),
});
export type L4MatchAttributes = z.output<typeof l4MatchAttributes>;

export const tlsRoute = z.strictObject({
  match: z.array(tlsMatchAttributes),
  route: z.array(routeDestination).optional(),
});
export type TLSRoute = z.output<typeof tlsRoute>;

export const tcpRoute = z.strictObject({
  match: z.array(l4MatchAttributes).optional(),
  route: z.array(routeDestination).optional(),
});
export type TCPRoute = z.output<typeof tcpRoute>;

export const virtualServiceSpec = z.strictObject({
  /** Empty for a delegate VirtualService (one referenced by another's `http[].delegate`). */
  hosts: strings.optional(),
  /** Absent: `mesh` (every sidecar). */
  gateways: strings.optional(),
  http: z.array(httpRoute).optional(),
  tls: z.array(tlsRoute).optional(),
  tcp: z.array(tcpRoute).optional(),
  /** Absent: exported to every namespace. */
  exportTo: strings.optional(),
});
export type VirtualServiceSpec = z.output<typeof virtualServiceSpec>;
