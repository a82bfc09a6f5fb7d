/**
 * Turns files into validated resources: YAML syntax, apiVersion/kind, metadata, the kind's schema
 * (unknown fields are errors), then the kind's semantic checks. Every problem becomes a
 * Diagnostic naming file, line, column and field path. Loading is all-or-nothing for callers that
 * need it: `ok` is false when any error was found.
 */
import type { z } from 'zod';
import { parseSource, type SourceDocument } from '../lib/source.js';
import { dropNulls } from '../lib/object.js';
import { formatPath, type FieldPath } from '../lib/field-path.js';
import type { Diagnostic, Level } from '../lib/diagnostic.js';
import { findKind, apiVersionsForKind, type AnyResource } from './kinds.js';
import type { KindDefinition, ResourceMeta, SourceRef, ValidationContext } from './resource.js';
import { objectMeta, isDns1123Subdomain, isDns1123Label, z as zod } from './schema.js';
import { Messages, formatMessage, type MessageType } from './messages.js';

export interface SourceText {
  file: string;
  text: string;
}

export interface LoadOptions {
  /** Namespace given to namespaced resources that name none (kubectl's and istioctl's `default`). */
  defaultNamespace?: string;
  /** Name given to resources that name none (istioctl reads IstioOperator files without one). */
  defaultName?: string;
  /**
   * A second definition of the same resource: an error for an apply (all-or-nothing), or, for
   * analysis of alternative files (Istio's samples define `reviews` several ways), a warning
   * and the last definition wins, as istioctl analyze does.
   */
  duplicates?: 'error' | 'last-wins';
}

export interface LoadResult {
  resources: AnyResource[];
  diagnostics: Diagnostic[];
  ok: boolean;
}

export function loadResources(sources: readonly SourceText[], options: LoadOptions = {}): LoadResult {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const resources: AnyResource[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen = new Map<string, AnyResource>();

  for (const { file, text } of sources) {
    const parsed = parseSource(file, text);
    for (const p of parsed.problems) {
      diagnostics.push({
        code: Messages.YamlSyntaxError.code,
        level: 'Error',
        message: formatMessage(Messages.YamlSyntaxError, [p.message]),
        location: { file, line: p.line, column: p.column, path: '' },
      });
    }
    for (const doc of parsed.documents) {
      for (const item of expandLists(doc)) {
        const resource = loadOne(item.source, item.value, defaultNamespace, diagnostics, options.defaultName);
        if (!resource) continue;
        const key = `${resource.apiVersion.split('/')[0]}|${resource.kind}|${resource.metadata.namespace}|${resource.metadata.name}`.replace(/^v1\|/, '|');
        const first = seen.get(key);
        if (first) {
          const at = first.source ? `${first.source.file}:${first.source.start.line}:${first.source.start.column}` : 'an earlier document';
          const lastWins = options.duplicates === 'last-wins';
          const type = lastWins ? Messages.ResourceRedefined : Messages.DuplicateResource;
          report(diagnostics, type, item.source, ['metadata', 'name'], resource, [resource.kind, nameOf(resource.metadata), at]);
          if (!lastWins) continue;
          resources.splice(resources.indexOf(first), 1);
        }
        seen.set(key, resource);
        resources.push(resource);
      }
    }
  }
  return { resources, diagnostics, ok: !diagnostics.some((d) => d.level === 'Error') };
}

function nameOf(meta: ResourceMeta): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

/** A document, or each item of a `kind: List` document, with paths mapped back into the file. */
function expandLists(doc: SourceDocument): { source: SourceRef; value: unknown }[] {
  const root: SourceRef = { file: doc.file, index: doc.index, start: doc.start, locate: doc.locate };
  const value = doc.value as Record<string, unknown> | null;
  if (value && typeof value === 'object' && !Array.isArray(value) && value.kind === 'List' && Array.isArray(value.items)) {
    return value.items.map((item, i) => ({
      value: item,
      source: {
        file: doc.file,
        index: doc.index,
        start: doc.locate(['items', i]),
        locate: (path: FieldPath, at?: 'key' | 'value') => doc.locate(['items', i, ...path], at),
      },
    }));
  }
  return [{ source: root, value }];
}

function loadOne(source: SourceRef, value: unknown, defaultNamespace: string, out: Diagnostic[], defaultName = ''): AnyResource | undefined {
  // An empty document (a trailing `---`, or only comments) is skipped, as kubectl does.
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    invalid(out, source, [], `a resource must be a mapping with apiVersion and kind, got ${describe(value)}`);
    return undefined;
  }
  const obj = dropNulls(value) as Record<string, unknown>;
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    invalid(out, source, ['apiVersion'], 'missing required field "apiVersion"');
    return undefined;
  }
  if (typeof kind !== 'string' || kind === '') {
    invalid(out, source, ['kind'], 'missing required field "kind"');
    return undefined;
  }
  const def = findKind(apiVersion, kind);
  if (!def) {
    const served = apiVersionsForKind(kind);
    const message = served.length > 0
      ? `kind ${kind} is not served by apiVersion ${apiVersion}; use one of: ${served.join(', ')}`
      : `unknown kind ${kind} (apiVersion ${apiVersion}): Weft does not support this resource`;
    out.push({ code: Messages.UnknownKind.code, level: 'Error', message, location: at(source, served.length > 0 ? ['apiVersion'] : ['kind']) });
    return undefined;
  }

  const problems: Problem[] = [];
  const meta = parseWith(objectMeta, obj.metadata ?? {}, ['metadata'], problems);
  const name = typeof meta?.name === 'string' && meta.name !== '' ? meta.name : defaultName;
  const namespace = def.namespaced ? (typeof meta?.namespace === 'string' && meta.namespace !== '' ? meta.namespace : defaultNamespace) : '';
  if (meta) {
    if (name === '') problems.push({ path: ['metadata', 'name'], message: 'missing required field "name"', missing: true });
    else checkName(def, name, problems);
    if (def.namespaced && meta.namespace && !isDns1123Label(meta.namespace)) {
      problems.push({ path: ['metadata', 'namespace'], message: `invalid namespace "${meta.namespace}": must be a lowercase RFC 1123 label` });
    }
  }

  const topLevelShape = { apiVersion: zod.string(), kind: zod.string(), metadata: zod.unknown().optional(), ...(def.specFromTopLevel ? {} : { spec: zod.unknown().optional() }), ...def.topLevel };
  if (!def.specFromTopLevel) parseWith(zod.strictObject(topLevelShape), obj, [], problems);
  const rawSpec = def.specFromTopLevel ? withoutTypeAndMeta(obj) : obj.spec;
  let spec: unknown;
  if (rawSpec === undefined || rawSpec === null) {
    if (def.emptySpec === undefined) problems.push({ path: ['spec'], message: 'missing required field "spec"', missing: true });
    else spec = parseWith(def.spec, def.emptySpec, ['spec'], problems);
  } else {
    spec = parseWith(def.spec, rawSpec, def.specFromTopLevel ? [] : ['spec'], problems);
  }

  const origin = { kind, namespace: namespace || undefined, name: name || '<unnamed>' };
  // Semantic checks assume a well-typed spec, so they run only once the schema passed.
  if (problems.length === 0 && def.validate) {
    try {
      def.validate(spec as never, validationContext(name, namespace, def.specFromTopLevel ? [] : ['spec'], problems));
    } catch (err) {
      // A bug in a check must not take the loader down with it; report it as Istio reports internal errors.
      problems.push({ path: [], message: formatMessage(Messages.InternalError, [`validating ${kind}: ${(err as Error).message}`]), type: Messages.InternalError });
    }
  }
  for (const p of problems) {
    const type = p.type ?? (p.level === 'Warning' ? Messages.SchemaWarning : Messages.SchemaValidationError);
    out.push({
      code: type.code,
      level: type.level,
      message: p.type ? p.message : formatMessage(type, [p.message]),
      origin,
      location: { ...position(source, p), path: formatPath(p.path) },
    });
  }
  if (problems.some((p) => (p.level ?? 'Error') === 'Error') || !meta) return undefined;
  return {
    apiVersion,
    kind,
    metadata: { ...meta, name, namespace },
    spec,
    raw: obj,
    source,
  } as AnyResource;
}

interface Problem {
  path: FieldPath;
  message: string;
  level?: Level;
  /** Locate at the key (unknown field) rather than the value. */
  atKey?: boolean;
  /** The field is absent: locate at its parent. */
  missing?: boolean;
  /** A catalogued message other than a schema error or warning. */
  type?: MessageType;
}

function validationContext(name: string, namespace: string, prefix: FieldPath, problems: Problem[]): ValidationContext {
  return {
    name,
    namespace,
    error: (path, message) => problems.push({ path: [...prefix, ...path], message }),
    warning: (path, message) => problems.push({ path: [...prefix, ...path], message, level: 'Warning' }),
    report: (path, type, args) => problems.push({ path: [...prefix, ...path], message: formatMessage(type, args), level: type.level, type }),
  };
}

/** The body of a kind that keeps its fields at the top level (ServiceAccount). */
function withoutTypeAndMeta(obj: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, ...body } = obj;
  return body;
}

function checkName(def: KindDefinition, name: string, problems: Problem[]): void {
  const format = def.nameFormat ?? 'dns1123-subdomain';
  const ok = format === 'dns1123-subdomain' ? isDns1123Subdomain(name)
    : format === 'dns1123-label' ? isDns1123Label(name)
    : /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 63;
  if (!ok) {
    const rule = format === 'dns1123-subdomain' ? 'a lowercase RFC 1123 subdomain' : format === 'dns1123-label' ? 'a lowercase RFC 1123 label' : 'a DNS-1035 label (lowercase, starting with a letter, at most 63 characters)';
    problems.push({ path: ['metadata', 'name'], message: `invalid name "${name}": must be ${rule}` });
  }
}

/** Parses `value` with a schema; turns each zod issue into a Problem with a path from the document root. */
function parseWith<T>(schema: z.ZodType<T, unknown>, value: unknown, prefix: FieldPath, problems: Problem[]): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push(...issueProblems(issue, value, prefix));
  return undefined;
}

function issueProblems(issue: z.core.$ZodIssue, root: unknown, prefix: FieldPath): Problem[] {
  const rel = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const path = [...prefix, ...rel];
  const actual = valueAt(root, rel);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown field "${key}"`, atKey: true }));
    case 'invalid_type':
      if (actual === undefined) {
        const field = rel[rel.length - 1];
        return [{ path, message: `missing required field "${String(field)}"`, missing: true }];
      }
      return [{ path, message: `expected ${typeName(issue.expected)}, got ${describe(actual)}` }];
    case 'invalid_value':
      return [{ path, message: `unsupported value ${JSON.stringify(actual)}; expected one of ${issue.values.map(String).join(', ')}` }];
    case 'too_small':
    case 'too_big': {
      if (!/^Too (small|big)/.test(issue.message)) return [{ path, message: issue.message }];
      const bound = issue.code === 'too_small' ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
      const what = issue.origin === 'array' ? 'number of items' : issue.origin === 'string' ? 'length' : 'value';
      return [{ path, message: `${what} must be ${bound}, got ${issue.origin === 'array' ? (actual as unknown[]).length : describe(actual)}` }];
    }
    case 'invalid_union':
      return [{ path, message: `invalid value ${describe(actual)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

function typeName(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'record' || expected === 'object') return 'a mapping';
  if (expected === 'array') return 'a list';
  return `a ${expected}`;
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function position(source: SourceRef, p: Problem): { file: string; line: number; column: number } {
  const path = p.missing ? p.path.slice(0, -1) : p.path;
  const pos = source.locate(path, p.atKey ? 'key' : 'value');
  return { file: source.file, line: pos.line, column: pos.column };
}

function at(source: SourceRef, path: FieldPath): { file: string; line: number; column: number; path: string } {
  const pos = source.locate(path);
  return { file: source.file, line: pos.line, column: pos.column, path: formatPath(path) };
}

function invalid(out: Diagnostic[], source: SourceRef, path: FieldPath, message: string): void {
  out.push({ code: Messages.InvalidDocument.code, level: 'Error', message, location: at(source, path) });
}

function report(out: Diagnostic[], type: MessageType, source: SourceRef, path: FieldPath, r: AnyResource, args: unknown[]): void {
  out.push({
    code: type.code,
    level: type.level,
    message: formatMessage(type, args),
    origin: { kind: r.kind, namespace: r.metadata.namespace || undefined, name: r.metadata.name },
    location: at(source, path),
  });
}
