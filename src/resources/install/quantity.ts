/**
 * Kubernetes resource quantities (`100Mi`, `500m`, `1Gi`, `2`, `1e3`) for the installer and the
 * local runtime, which applies the proxy's and components' limits. The grammar lives in
 * kube/quantity.ts (one parser, one wording of errors); this adds what IstioOperator needs: YAML
 * numbers (`cpu: 2`) and a schema that keeps the value as written, since values pass to the
 * charts unchanged.
 */
import { z } from '../schema.js';
import { parseQuantity as parseQuantityText, QuantityError } from '../kube/quantity.js';

export { QuantityError };

/** Parses a quantity to a number of base units: bytes for memory, cores for CPU. Throws QuantityError. */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text)) throw new QuantityError(`quantity ${text} is not a finite number`);
    return text;
  }
  return parseQuantityText(text);
}

/** Why a value is not a valid quantity, or undefined. */
export function quantityProblem(value: string | number): string | undefined {
  try {
    parseQuantity(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A quantity field, kept as written (`"100Mi"` or `2`); read it with parseQuantity. */
export const quantity = z.custom<string | number>((v) => typeof v === 'string' || typeof v === 'number', {
  error: (issue) => `expected a quantity such as "100Mi", "500m" or 2, got ${issue.input === null ? 'null' : Array.isArray(issue.input) ? 'a list' : typeof issue.input}`,
}).superRefine((value, ctx) => {
  const problem = quantityProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
  else if (parseQuantity(value) < 0) ctx.addIssue({ code: 'custom', message: `quantity ${JSON.stringify(value)} must not be negative` });
});
