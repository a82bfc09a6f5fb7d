/**
 * Kubernetes resource quantities (`100m`, `128Mi`, `1.5`, `2e3`), as resource.Quantity parses
 * them. Values come out as plain numbers in base units (cores, bytes): exact enough for limits and
 * requests, which only need comparing and passing on to the runtime.
 */
import { z } from '../schema.js';

const SUFFIX_FACTOR: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;

/** Kubernetes' own wording (resource.ErrFormatWrong), so users recognise it. */
const FORMAT_RULE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export class QuantityError extends Error {
  readonly code = 'WEFT_BAD_QUANTITY';
}

/** Parses a quantity to a number in base units; throws QuantityError when it is not one. */
export function parseQuantity(text: string): number {
  const m = QUANTITY.exec(text);
  if (!m) throw new QuantityError(`invalid quantity "${text}": ${FORMAT_RULE}`);
  const number = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix[0] === 'e' || suffix[0] === 'E') return number * 10 ** Number(suffix.slice(1));
  return number * (SUFFIX_FACTOR[suffix] ?? 1);
}

/** A quantity field: YAML lets users write `cpu: 1` as well as `cpu: "500m"`. */
export const quantity = z.unknown().transform((value, ctx): number => {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') {
    ctx.addIssue({ code: 'custom', message: `expected a quantity such as "500m" or "128Mi", got ${value === undefined ? 'nothing' : describeValue(value)}` });
    return z.NEVER;
  }
  try {
    return parseQuantity(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof QuantityError ? err.message : String(err) });
    return z.NEVER;
  }
});

/** How a wrong value is named in messages (matches the loader's wording). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
