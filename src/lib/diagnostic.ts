import { formatPath, type FieldPath } from './field-path.js';

export type Level = 'Error' | 'Warning' | 'Info';

/** The resource a diagnostic is about, as istioctl prints it: `VirtualService default/reviews`. */
export interface Origin {
  kind: string;
  namespace?: string;
  name: string;
}

/** Where in the user's files a problem is. Lines and columns are 1-based. */
export interface Location {
  file: string;
  line: number;
  column: number;
  /** Field path within the document, e.g. `spec.http[0].route[1].weight`; empty for the whole document. */
  path: string;
}

/** One problem found in configuration: a catalogued code, a level, a message and where it is. */
export interface Diagnostic {
  code: string;
  level: Level;
  message: string;
  origin?: Origin;
  location?: Location;
}

const LEVEL_ORDER: Record<Level, number> = { Error: 0, Warning: 1, Info: 2 };

export function levelAtLeast(level: Level, threshold: Level): boolean {
  return LEVEL_ORDER[level] <= LEVEL_ORDER[threshold];
}

/** Orders diagnostics by file, line, column, then code, so output is stable. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const fa = a.location?.file ?? '';
  const fb = b.location?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  const la = a.location?.line ?? 0;
  const lb = b.location?.line ?? 0;
  if (la !== lb) return la - lb;
  const ca = a.location?.column ?? 0;
  const cb = b.location?.column ?? 0;
  if (ca !== cb) return ca - cb;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

export function originName(origin: Origin): string {
  return origin.namespace ? `${origin.namespace}/${origin.name}` : origin.name;
}

/** istioctl's text shape: `Error [IST0101] (VirtualService default/reviews file.yaml:12) message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where: string[] = [];
  if (d.origin) where.push(`${d.origin.kind} ${originName(d.origin)}`);
  // Line 0: no position in a file (an object read from the Kubernetes API, an unreadable path).
  if (d.location) where.push(d.location.line > 0 ? `${d.location.file}:${d.location.line}:${d.location.column}` : d.location.file);
  const path = d.location?.path ? ` ${d.location.path}:` : '';
  const paren = where.length > 0 ? ` (${where.join(' ')})` : '';
  return `${d.level} [${d.code}]${paren}${path} ${d.message}`;
}

export { formatPath, type FieldPath };
