/**
 * Telemetry (telemetry.istio.io v1alpha1 and v1): tracing, metrics and access logging per mesh,
 * namespace or workload. Schema from istio/api telemetry/v1alpha1/telemetry.proto and its CRD
 * rules; checks ported from ValidateTelemetry in istio/istio pkg/config/validation/validation.go.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z, duration, oneOf, workloadSelector } from '../schema.js';
import { policyTargetRef, policyTargetRefs, checkPolicyScope } from './policy-scope.js';
import { parse as parseCel } from '@marcbachmann/cel-js';

export const workloadMode = z.enum(['CLIENT_AND_SERVER', 'CLIENT', 'SERVER']);
export type WorkloadMode = z.output<typeof workloadMode>;

/** A provider name from meshConfig.extensionProviders. */
export const providerRef = z.strictObject({ name: z.string().min(1, 'providers.name may not be empty') });
export type ProviderRef = z.output<typeof providerRef>;
const providers = z.array(providerRef).optional();

const nonEmpty = (what: string) => z.string().min(1, `${what} may not be empty`);

export const customTag = oneOf({
  literal: z.strictObject({ value: nonEmpty('literal tag value') }).optional(),
  environment: z.strictObject({ name: nonEmpty('environment tag name'), defaultValue: z.string().optional() }).optional(),
  header: z.strictObject({ name: nonEmpty('header tag name'), defaultValue: z.string().optional() }).optional(),
  /** An access-log style formatter, e.g. `%REQ(:PATH)%`. */
  formatter: z.strictObject({ value: nonEmpty('formatter tag value') }).optional(),
}, ['literal', 'environment', 'header', 'formatter'], false);
export type CustomTag = z.output<typeof customTag>;

export const tracing = z.strictObject({
  match: z.strictObject({ mode: workloadMode.optional() }).optional(),
  providers,
  randomSamplingPercentage: z.number()
    .min(0, 'randomSamplingPercentage must be in range [0.0, 100.0]')
    .max(100, 'randomSamplingPercentage must be in range [0.0, 100.0]').nullable().optional(),
  disableSpanReporting: z.boolean().nullable().optional(),
  customTags: z.record(z.string(), customTag).optional(),
  useRequestIdForTraceSampling: z.boolean().nullable().optional(),
  enableIstioTags: z.boolean().nullable().optional(),
  disableContextPropagation: z.boolean().nullable().optional(),
});
export type Tracing = z.output<typeof tracing>;

export const istioMetric = z.enum([
  'ALL_METRICS', 'REQUEST_COUNT', 'REQUEST_DURATION', 'REQUEST_SIZE', 'RESPONSE_SIZE',
  'TCP_OPENED_CONNECTIONS', 'TCP_CLOSED_CONNECTIONS', 'TCP_SENT_BYTES', 'TCP_RECEIVED_BYTES',
  'GRPC_REQUEST_MESSAGES', 'GRPC_RESPONSE_MESSAGES',
]);
export type IstioMetric = z.output<typeof istioMetric>;

export const metricSelector = oneOf({
  metric: istioMetric.optional(),
  customMetric: z.string().min(1, 'customMetric may not be empty').optional(),
  mode: workloadMode.optional(),
}, ['metric', 'customMetric'], false);

export const tagOverride = z.strictObject({
  /** Absent means UPSERT, the proto's zero value. */
  operation: z.enum(['UPSERT', 'REMOVE']).optional(),
  value: z.string().optional(),
});
export type TagOverride = z.output<typeof tagOverride>;

export const metricsOverrides = z.strictObject({
  match: metricSelector.optional(),
  disabled: z.boolean().nullable().optional(),
  tagOverrides: z.record(z.string(), tagOverride).optional(),
});
export type MetricsOverrides = z.output<typeof metricsOverrides>;

export const metrics = z.strictObject({
  providers,
  overrides: z.array(metricsOverrides).optional(),
  /** In ms. */
  reportingInterval: duration().optional(),
});
export type Metrics = z.output<typeof metrics>;

export const accessLogging = z.strictObject({
  match: z.strictObject({ mode: workloadMode.optional() }).optional(),
  providers,
  disabled: z.boolean().nullable().optional(),
  /** A CEL expression over Envoy attributes, e.g. `response.code >= 400`. */
  filter: z.strictObject({ expression: z.string().optional() }).optional(),
});
export type AccessLogging = z.output<typeof accessLogging>;

export const telemetrySpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetRef.optional(),
  targetRefs: policyTargetRefs.optional(),
  tracing: z.array(tracing).optional(),
  metrics: z.array(metrics).optional(),
  accessLogging: z.array(accessLogging).optional(),
});
export type TelemetrySpec = z.output<typeof telemetrySpec>;

export function validateTelemetry(spec: TelemetrySpec, ctx: ValidationContext): void {
  checkPolicyScope(spec, ctx);
  if ((spec.tracing?.length ?? 0) > 1) ctx.warning(['tracing'], 'multiple tracing is not currently supported');
  spec.tracing?.forEach((t, i) => {
    if ((t.providers?.length ?? 0) > 1) ctx.warning(['tracing', i, 'providers'], 'multiple providers is not currently supported');
    for (const name of Object.keys(t.customTags ?? {})) {
      if (name === '') ctx.error(['tracing', i, 'customTags', name], 'tag name may not be empty');
    }
  });
  spec.metrics?.forEach((m, i) => {
    m.overrides?.forEach((o, j) => {
      for (const [name, to] of Object.entries(o.tagOverrides ?? {})) {
        const at = ['metrics', i, 'overrides', j, 'tagOverrides', name];
        if (name === '') ctx.warning(at, 'tagOverrides.name may not be empty');
        if ((to.operation ?? 'UPSERT') === 'UPSERT' && !to.value) ctx.error(at, 'tagOverrides.value must be set when operation is UPSERT');
        if (to.operation === 'REMOVE' && to.value !== undefined) ctx.error([...at, 'value'], 'tagOverrides.value may only be set when operation is UPSERT');
        // The proxy's stats filter evaluates the value as CEL (Envoy NACKs one that does not parse).
        const problem = (to.operation ?? 'UPSERT') === 'UPSERT' && to.value ? celParseProblem(to.value) : undefined;
        if (problem) ctx.error([...at, 'value'], `must be a valid CEL expression, ${problem}`);
      }
    });
  });
  spec.accessLogging?.forEach((l, i) => {
    if (l.filter === undefined) return;
    const problem = celSyntaxProblem(l.filter.expression ?? '') ?? celParseProblem(l.filter.expression ?? '');
    if (problem) ctx.error(['accessLogging', i, 'filter', 'expression'], `must be a valid CEL expression, ${problem}`);
  });
}

/** What a full CEL parse (the one proxies evaluate with) says about an expression the token check let through. */
function celParseProblem(expression: string): string | undefined {
  try {
    parseCel(expression);
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

const CEL_TOKEN = /\s+|[rR]?("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|[bB]("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|0[xX][0-9a-fA-F]+[uU]?|\d+(\.\d+)?([eE][+-]?\d+)?[uU]?|\.\d+|[A-Za-z_][A-Za-z0-9_]*|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()[\]{}]/y;
const BINARY = new Set(['==', '!=', '<=', '>=', '&&', '||', '*', '/', '%', '<', '>', '?', ':', '.', ',', '+']);

/**
 * A syntax check of a CEL expression (Istio parses it with cel-go): tokens, balanced brackets
 * and no dangling operator. Types and attribute names are checked by Envoy, not here.
 */
export function celSyntaxProblem(expression: string): string | undefined {
  const tokens: string[] = [];
  CEL_TOKEN.lastIndex = 0;
  while (CEL_TOKEN.lastIndex < expression.length) {
    const at = CEL_TOKEN.lastIndex;
    const m = CEL_TOKEN.exec(expression);
    if (!m) {
      const rest = expression.slice(at);
      return /^[rRbB]?['"]/.test(rest) ? `unterminated string at offset ${at}` : `unexpected character "${rest[0]}" at offset ${at}`;
    }
    if (m[0].trim() !== '') tokens.push(m[0]);
  }
  if (tokens.length === 0) return 'the expression is empty';
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let previous = '';
  for (const token of tokens) {
    if (previous === '' && BINARY.has(token)) return `expression starts with "${token}"`;
    if ('([{'.includes(token)) open.push(token);
    else if (token in pairs) {
      if (open.pop() !== pairs[token]) return `unbalanced "${token}"`;
    }
    if (BINARY.has(token) && (BINARY.has(previous) || previous === '(' || previous === '[' || previous === '!') && token !== '.') {
      return `unexpected "${token}" after "${previous}"`;
    }
    previous = token;
  }
  if (open.length > 0) return `missing closing bracket for "${open[open.length - 1] as string}"`;
  if (BINARY.has(previous) || previous === '!' || previous === '-') return `expression ends with "${previous}"`;
  return undefined;
}

export const telemetryKind = defineKind({
  kind: 'Telemetry',
  group: 'telemetry.istio.io',
  versions: ['v1alpha1', 'v1'],
  namespaced: true,
  spec: telemetrySpec,
  emptySpec: {},
  validate: validateTelemetry,
});
