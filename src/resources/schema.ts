/**
 * Building blocks for resource schemas. Every kind's schema is a tree of strict objects (unknown
 * fields are errors, as Istio's validation webhook rejects them) made from these pieces, so the
 * same field type is parsed and reported the same way everywhere.
 */
import { z } from 'zod';
import { RE2JS } from 're2js';
import { parseDurationMs, DurationError } from '../lib/duration.js';

export { z };

/** A protobuf Duration written as Go duration text; parsed to milliseconds. */
export function duration(opts: { min?: number } = {}) {
  const min = opts.min ?? 1;
  return z.unknown().transform((text, ctx) => {
    if (text === undefined) {
      ctx.addIssue({ code: 'invalid_type', expected: 'string', input: text });
      return z.NEVER;
    }
    if (typeof text !== 'string') {
      const hint = typeof text === 'number' ? `; durations are strings with a unit, e.g. "${text}s" or "${text}ms"` : '';
      ctx.addIssue({ code: 'custom', message: `expected a duration string, got ${typeof text} ${JSON.stringify(text)}${hint}` });
      return z.NEVER;
    }
    let ms: number;
    try {
      ms = parseDurationMs(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof DurationError ? err.message : String(err) });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `duration "${text}" must be at least ${min === 1 ? '1ms' : `${min}ms`}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** Istio's Percent message: a double in [0, 100]. */
export const percent = z.strictObject({
  value: z.number().min(0, 'percentage must be in range 0..100').max(100, 'percentage must be in range 0..100'),
});

export const uint32 = z.number().int().min(0).max(4294967295);
export const int32 = z.number().int().min(-2147483648).max(2147483647);
export const portNumber = z.number().int().min(1, 'port number must be in 1..65535').max(65535, 'port number must be in 1..65535');
/** Istio writes some port numbers as uint32 and validates the range separately. */
export const portValue = z.number().int().min(0).max(65535, 'port number must be in 1..65535');

/** Checks a regular expression the way Istio does: RE2 syntax (Go's regexp), not JavaScript's. */
export function re2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export const regex = z.string().superRefine((pattern, ctx) => {
  const problem = re2Problem(pattern);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${pattern}" is not a valid regular expression: ${problem}` });
});

/**
 * A protobuf oneof: at most one of `fields` may be set (exactly one when `required`).
 * Reported on the object, naming the fields, as Istio's validation does.
 */
export function oneOf<T extends z.ZodRawShape>(shape: T, fields: (keyof T & string)[], required: boolean) {
  return z.strictObject(shape).superRefine((value, ctx) => {
    const set = fields.filter((f) => (value as Record<string, unknown>)[f] !== undefined);
    if (set.length > 1) {
      ctx.addIssue({ code: 'custom', path: [set[1] as string], message: `only one of ${fields.join(', ')} may be set (found ${set.join(' and ')})` });
    } else if (required && set.length === 0) {
      ctx.addIssue({ code: 'custom', message: `one of ${fields.join(', ')} must be set` });
    }
  });
}

/** Istio's StringMatch: exactly one of exact, prefix, regex (an empty object means "present"). */
export const stringMatch = oneOf(
  { exact: z.string().optional(), prefix: z.string().optional(), regex: regex.optional() },
  ['exact', 'prefix', 'regex'],
  false,
);
export type StringMatch = z.infer<typeof stringMatch>;

export const stringMap = z.record(z.string(), z.string());

/** Label keys and values as Kubernetes validates them. */
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return `invalid label key "${key}": prefix must be a DNS subdomain`;
  if (name.length > 63 || !LABEL_NAME.test(name)) return `invalid label key "${key}": name must be 63 characters or less, alphanumeric, '-', '_' or '.'`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) return `invalid label value "${value}": must be 63 characters or less, alphanumeric, '-', '_' or '.'`;
  return undefined;
}

export const labels = z.record(z.string(), z.string()).superRefine((map, ctx) => {
  for (const [key, value] of Object.entries(map)) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
  }
});

export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

/** Istio's WorkloadSelector. */
export const workloadSelector = z.strictObject({ matchLabels: labels.optional() });

/** Kubernetes metadata. Fields a server sets are accepted so that `kubectl get -o yaml` output applies. */
export const objectMeta = z.strictObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  labels: labels.optional(),
  annotations: stringMap.optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.union([z.string(), z.null()]).optional(),
  deletionTimestamp: z.string().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
  managedFields: z.array(z.record(z.string(), z.unknown())).optional(),
  selfLink: z.string().optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;
