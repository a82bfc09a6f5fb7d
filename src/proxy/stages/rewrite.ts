/**
 * VirtualService `rewrite`, as Envoy's route action applies it before forwarding:
 * - `uriRegexRewrite` (regex): every non-overlapping RE2 match in the path is replaced, `\1`..`\9`
 *   are capture groups and `\0` the whole match (RE2::GlobalReplace); the query is kept;
 * - `path`: the whole path is replaced;
 * - `uri` (prefix): only the part of the path the route matched is replaced (Envoy prefix_rewrite),
 *   so a route on prefix `/` rewritten to `/v2` sends `/foo` as `/v2foo`, as in Istio;
 * - `authority`: replaces the Host/:authority.
 */
import type { ForwardAction, RouteMatch } from '../../proxy-config/index.js';
import { cachedRe2 } from './route-match.js';
import type { RE2JS } from 're2js';

type Rewrite = ForwardAction['rewrite'];
type Substitution = (string | number)[];

const substitutions = new WeakMap<object, Substitution>();

/** Splits an RE2 rewrite string into literal text and group numbers (`\\` is a literal backslash). */
export function parseSubstitution(text: string): Substitution {
  const parts: Substitution = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\' || i + 1 >= text.length) {
      literal += c;
      continue;
    }
    const next = text[i + 1] ?? '';
    if (next >= '0' && next <= '9') {
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(Number(next));
    } else {
      // `\\` is a backslash; RE2 rejects any other escape, which we keep literally.
      literal += next === '\\' ? '\\' : `\\${next}`;
    }
    i++;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

function substitutionFor(holder: object, text: string): Substitution {
  let parts = substitutions.get(holder);
  if (parts === undefined) {
    parts = parseSubstitution(text);
    substitutions.set(holder, parts);
  }
  return parts;
}

/** RE2::GlobalReplace: successive non-overlapping matches; an empty match next to the previous one is skipped. */
export function re2ReplaceAll(re: RE2JS, input: string, parts: Substitution): string {
  const m = re.matcher(input);
  let out = '';
  let copied = 0;
  let lastEnd = -1;
  let pos = 0;
  while (pos <= input.length && m.find(pos)) {
    const start = m.start();
    const end = m.end();
    if (start === end && start === lastEnd) {
      pos = start + 1;
      continue;
    }
    out += input.slice(copied, start);
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else if (part <= m.groupCount()) out += m.group(part) ?? '';
    }
    copied = end;
    lastEnd = end;
    pos = end === start ? end + 1 : end;
  }
  return out + input.slice(copied);
}

/**
 * The part of `path` the route's path matcher matched, which a prefix rewrite replaces: the
 * prefix for a prefix match (Istio's matchless routes are prefix `/`), the whole path otherwise.
 */
export function matchedPathPrefix(match: RouteMatch | undefined, path: string): string {
  const pm = match?.path;
  if (pm === undefined || pm === null || (typeof pm === 'object' && 'present' in pm)) return path.startsWith('/') ? '/' : '';
  if (typeof pm === 'object' && 'prefix' in pm && typeof pm.prefix === 'string') return path.slice(0, pm.prefix.length);
  return path;
}

/** The path to send upstream after the route's rewrite (query not included). */
export function rewritePath(rewrite: Rewrite, match: RouteMatch, path: string): string {
  if (typeof rewrite !== 'object' || rewrite === null) return path;
  const regex = rewrite.regex;
  if (typeof regex === 'object' && regex !== null) {
    const re = cachedRe2(regex, regex.pattern);
    if (re === null || typeof regex.substitution !== 'string') return path;
    return re2ReplaceAll(re, path, substitutionFor(regex, regex.substitution));
  }
  if (typeof rewrite.path === 'string' && rewrite.path !== '') return rewrite.path;
  if (typeof rewrite.prefix === 'string' && rewrite.prefix !== '') {
    return rewrite.prefix + path.slice(matchedPathPrefix(match, path).length);
  }
  return path;
}

/** The authority to send upstream: `rewrite.authority` when set (Envoy host_rewrite_literal). */
export function rewriteAuthority(rewrite: Rewrite, authority: string): string {
  const replacement = rewrite?.authority;
  return typeof replacement === 'string' && replacement !== '' ? replacement : authority;
}
