/**
 * `--set path=value`, with istioctl's path syntax (operator/pkg/values/map.go): dotted keys
 * under `spec` (`values.global.proxy.resources.limits.memory=512Mi`), list elements by index
 * (`components.ingressGateways[0].k8s.replicaCount=3`) or by a key's value
 * (`components.ingressGateways[name:istio-ingressgateway].enabled=false`), `\.` for a dot inside a
 * key. Values are typed as istioctl types them: integer, then float, then boolean, else a string
 * (`\,` for a comma), except paths Istio always keeps as strings (tags, proxyMetadata).
 */
import { formatPath } from '../lib/field-path.js';
import { isMap, type PlainMap } from './objects.js';

export type SetSegment = { key: string } | { index: number } | { match: [string, string] };

export interface SetFlag {
  /** The argument as given, for error messages. */
  text: string;
  /** Segments below `spec`. */
  path: SetSegment[];
  value: unknown;
}

export class SetFlagError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`--set ${flag}: ${message}`);
  }
}

/** Paths whose values stay strings (istioctl's alwaysString), relative to spec. */
const ALWAYS_STRING = ['compatibilityVersion', 'tag', 'values.global.tag', 'values.compatibilityVersion', 'meshConfig.defaultConfig.proxyMetadata.', 'values.meshConfig.defaultConfig.proxyMetadata.'];

export function parseSetFlag(text: string): SetFlag {
  const eq = text.indexOf('=');
  if (eq < 0) throw new SetFlagError(text, 'expected path=value, e.g. --set values.global.proxy.resources.limits.memory=512Mi');
  const pathText = text.slice(0, eq).trim().replace(/^\.+|\.+$/g, '');
  const valueText = text.slice(eq + 1).trim();
  if (pathText === '') throw new SetFlagError(text, 'the path before "=" is empty');
  const path = splitPath(text, pathText);
  const dotted = pathText.replace(/\\\./g, '.');
  const value = ALWAYS_STRING.some((p) => (p.endsWith('.') ? dotted.startsWith(p) : dotted === p)) ? valueText : parseValue(valueText);
  return { text, path, value };
}

function splitPath(flag: string, path: string): SetSegment[] {
  const segments: SetSegment[] = [];
  for (const part of path.split(/(?<!\\)\./)) {
    if (part === '') throw new SetFlagError(flag, `empty key in path "${path}" (two dots in a row)`);
    const m = /^([^[\]]*)((?:\[[^\]]*\])*)$/.exec(part);
    if (!m) throw new SetFlagError(flag, `bad path element "${part}": use key, key[0] or key[name:value]`);
    const key = (m[1] ?? '').replace(/\\\./g, '.');
    if (key !== '') segments.push({ key });
    for (const bracket of (m[2] ?? '').match(/\[[^\]]*\]/g) ?? []) {
      const inner = bracket.slice(1, -1);
      if (/^-?\d+$/.test(inner)) segments.push({ index: Number(inner) });
      else if (inner.includes(':')) {
        const at = inner.indexOf(':');
        segments.push({ match: [inner.slice(0, at), inner.slice(at + 1)] });
      } else throw new SetFlagError(flag, `unknown segment ${bracket}: use [index] or [key:value]`);
    }
  }
  if (segments.length === 0) throw new SetFlagError(flag, 'the path names no field');
  if (!('key' in segments[0]!)) throw new SetFlagError(flag, 'a path must start with a field name, e.g. components.ingressGateways[0]');
  return segments;
}

/** Go's strconv order: Atoi, ParseFloat, ParseBool, else the text. */
export function parseValue(text: string): unknown {
  if (/^[+-]?\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (['true', 'True', 'TRUE', 't', 'T'].includes(text)) return true;
  if (['false', 'False', 'FALSE', 'f', 'F'].includes(text)) return false;
  return text.replace(/\\,/g, ',');
}

/**
 * Sets the flag's value in `spec` (mutated), creating mappings and list elements on the way as
 * istioctl does. Returns the field path it set, list positions resolved
 * (`spec.components.ingressGateways[0].enabled`), so validation problems can name their flag.
 */
export function applySetFlag(spec: PlainMap, flag: SetFlag): string {
  let node: PlainMap = spec;
  const where: (string | number)[] = ['spec'];
  const at = (): string => formatPath(where);
  for (let i = 0; i < flag.path.length; i++) {
    const seg = flag.path[i]!;
    const next = flag.path[i + 1];
    if (!('key' in seg)) throw new SetFlagError(flag.text, `${at()}: lists of lists are not supported`);
    where.push(seg.key);
    if (next === undefined) {
      node[seg.key] = flag.value;
      return at();
    }
    if ('key' in next) {
      const child = node[seg.key];
      if (child === undefined) node[seg.key] = {};
      else if (!isMap(child)) throw new SetFlagError(flag.text, `${at()} is ${describe(child)}, not a mapping`);
      node = node[seg.key] as PlainMap;
      continue;
    }
    // A list element: by index (past the end appends) or by a key's value (which must exist).
    const list = node[seg.key] ?? [];
    if (!Array.isArray(list)) throw new SetFlagError(flag.text, `${at()} is ${describe(list)}, not a list`);
    node[seg.key] = list;
    let index: number;
    if ('index' in next) index = next.index;
    else {
      const [k, v] = next.match;
      index = list.findIndex((item) => isMap(item) && String(item[k]) === v);
      if (index < 0) throw new SetFlagError(flag.text, `no element [${k}:${v}] in ${at()}`);
    }
    const append = index < 0 || index >= list.length;
    where.push(append ? list.length : index);
    i++;
    if (i === flag.path.length - 1) {
      if (append) list.push(flag.value);
      else list[index] = flag.value;
      return at();
    }
    if (append) {
      const created: PlainMap = {};
      list.push(created);
      node = created;
    } else {
      const item: unknown = list[index];
      if (!isMap(item)) throw new SetFlagError(flag.text, `${at()} is ${describe(item)}, not a mapping`);
      node = item;
    }
  }
  return at();
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
