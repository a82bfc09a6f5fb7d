/** A path into a parsed document: object keys and array indexes, outermost first. */
export type FieldPath = ReadonlyArray<string | number>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Formats a path the way Istio and kubectl print it: `spec.http[0].route[1].weight`.
 * Keys that are not plain identifiers (header names with dots, `@request.auth.claims.x`)
 * are quoted in brackets so the path stays unambiguous.
 */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (IDENTIFIER.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
