/**
 * Request path normalization as Istio configures Envoy's HTTP connection manager
 * (meshConfig.pathNormalization, ISTIO-SEMANTICS §10). Runs before routing and authorization, and
 * the result is also what goes upstream, so a policy on `/admin` sees the same path the app does.
 *
 * Steps, in Envoy's order: strip the `#fragment`; split off the query (never touched);
 * DECODE_AND_MERGE_SLASHES only: decode `%2F %2f %5C %5c` (UNESCAPE_AND_FORWARD);
 * all but NONE: RFC 3986 normalization, which is Chromium's path canonicalizer as Envoy uses it
 * (source/common/http/path_utility.cc); MERGE_SLASHES and DECODE_AND_MERGE_SLASHES: merge `//`.
 */
import type { MeshRuntimeConfig } from '../../proxy-config/index.js';

export type PathNormalization = MeshRuntimeConfig['pathNormalization'];
export type NormalizedPath = { path: string; query: string } | { reject: 400 };

const REJECT: { reject: 400 } = Object.freeze({ reject: 400 });

// Character classes of Chromium's kPathCharLookup (the table Envoy's canonicalizer uses).
const PASS = 0;
const ESCAPE = 1;
const UNESCAPE = 2; // unreserved: copied when raw, decoded when percent-encoded
const INVALID = 3; // NUL: the path is rejected
const SPECIAL = 4; // '.', '%' and '\' have their own handling

const CHAR_CLASS = new Uint8Array(256).fill(ESCAPE);
for (const c of "!$&'()*+,/:;=@[]") CHAR_CLASS[c.charCodeAt(0)] = PASS;
for (const c of '-_~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz') CHAR_CLASS[c.charCodeAt(0)] = UNESCAPE;
for (const c of '.%\\') CHAR_CLASS[c.charCodeAt(0)] = SPECIAL;
CHAR_CLASS[0] = INVALID;

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

function escapeByte(byte: number): string {
  return `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
}

/** Node hands the request target over as latin1, so codes <= 0xFF are bytes; anything above is re-encoded as UTF-8. */
function escapeCodePoint(cp: number): string {
  let out = '';
  for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += escapeByte(byte);
  return out;
}

function isSlash(code: number): boolean {
  return code === 47 || code === 92;
}

/** Length of a dot at `i`: 1 for '.', 3 for '%2e'/'%2E', 0 otherwise. */
function dotLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 46) return 1;
  if (c === 37 && i + 3 <= s.length && s.charCodeAt(i + 1) === 50 && (s.charCodeAt(i + 2) | 32) === 101) return 3;
  return 0;
}

/** Drops the output back to the slash before its last segment (never above the root). */
function backUpToPreviousSlash(out: string): string {
  let i = out.length - 1;
  if (i === 0) return out;
  do i--; while (i > 0 && out.charCodeAt(i) !== 47);
  return out.slice(0, i + 1);
}

/** Chromium's DoPath on the path alone; null when the path is invalid (an escaped or raw NUL). */
export function canonicalizePath(path: string): string | null {
  if (path === '') return '/';
  let out = isSlash(path.charCodeAt(0)) ? '' : '/';
  const n = path.length;
  for (let i = 0; i < n; i++) {
    const code = path.charCodeAt(i);
    if (code > 0xff) {
      const cp = path.codePointAt(i) ?? code;
      if (cp > 0xffff) i++;
      out += escapeCodePoint(cp);
      continue;
    }
    const cls = CHAR_CLASS[code];
    if (cls === PASS || cls === UNESCAPE) {
      out += path[i];
      continue;
    }
    const dot = dotLength(path, i);
    if (dot > 0) {
      if (out.charCodeAt(out.length - 1) !== 47) {
        out += '.';
        i += dot - 1;
        continue;
      }
      const after = i + dot;
      if (after === n) {
        i += dot - 1; // "/." at the end: current directory
        continue;
      }
      if (isSlash(path.charCodeAt(after))) {
        i += dot; // "/./": current directory, the slash is consumed too
        continue;
      }
      const second = dotLength(path, after);
      const afterSecond = after + second;
      if (second > 0 && (afterSecond === n || isSlash(path.charCodeAt(afterSecond)))) {
        out = backUpToPreviousSlash(out);
        i = afterSecond === n ? afterSecond - 1 : afterSecond;
        continue;
      }
      out += '.';
      i += dot - 1;
      continue;
    }
    if (code === 92) {
      out += '/';
    } else if (code === 37) {
      const hi = i + 2 < n ? hexValue(path.charCodeAt(i + 1)) : -1;
      const lo = hi >= 0 ? hexValue(path.charCodeAt(i + 2)) : -1;
      if (lo < 0) {
        out += '%'; // an invalid escape passes through, as Firefox and Safari do
        continue;
      }
      const value = (hi << 4) | lo;
      const decodedClass = CHAR_CLASS[value];
      if (decodedClass === UNESCAPE) out += String.fromCharCode(value);
      else if (decodedClass === INVALID) return null;
      else out += path.slice(i, i + 3); // kept escaped, hex case untouched
      i += 2;
    } else if (cls === INVALID) {
      return null;
    } else {
      out += escapeByte(code);
    }
  }
  return out;
}

/** Newer Envoy (strip_dotdot_segments_with_parameters): `..;x` and `.;x` segments count as dot segments. */
function stripDotSegmentParameters(path: string): string {
  if (!path.includes('.;')) return path;
  return path
    .split('/')
    .map((seg) => (seg.startsWith('..;') ? '..' : seg.startsWith('.;') ? '.' : seg))
    .join('/');
}

/** Envoy's mergeSlashes: keeps one leading and one trailing slash. */
export function mergeSlashes(path: string): string {
  if (!path.includes('//')) return path;
  const prefix = path.startsWith('/') ? '/' : '';
  const suffix = path.endsWith('/') ? '/' : '';
  return prefix + path.split('/').filter((s) => s !== '').join('/') + suffix;
}

/** UNESCAPE_AND_FORWARD: `%2F %2f` become `/`, `%5C %5c` become `\`, in one left-to-right pass. */
export function unescapeSlashes(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%(?:2[fF]|5[cC])/g, (m) => (m[1] === '2' ? '/' : '\\'));
}

/** True when canonicalization cannot change the path: a quick scan that keeps the common case allocation-free. */
function alreadyCanonical(path: string): boolean {
  if (path.charCodeAt(0) !== 47) return false;
  for (let i = 1; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code > 0xff) return false;
    const cls = CHAR_CLASS[code];
    if (cls === PASS || cls === UNESCAPE) continue;
    if (code === 46 && path.charCodeAt(i - 1) !== 47) continue;
    return false;
  }
  return true;
}

/**
 * Normalizes a request target (`/a/../b?x=1#f`) per the mesh setting. Returns the path and the
 * query (with its leading `?`, or '' when the target has none, so `path + query` is the `:path`
 * that goes upstream), or `{ reject: 400 }` for a path Envoy rejects. `*` (OPTIONS *) is kept.
 */
export function normalizePath(rawPath: string, mode: PathNormalization): NormalizedPath {
  if (typeof rawPath !== 'string') return REJECT;
  const hash = rawPath.indexOf('#');
  const target = hash === -1 ? rawPath : rawPath.slice(0, hash);
  const q = target.indexOf('?');
  let path = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (mode === 'NONE' || path === '*') return { path, query };
  if (mode === 'DECODE_AND_MERGE_SLASHES') path = unescapeSlashes(path);
  if (!alreadyCanonical(path)) {
    const canonical = canonicalizePath(stripDotSegmentParameters(path));
    if (canonical === null) return REJECT;
    path = canonical;
  }
  if (mode === 'MERGE_SLASHES' || mode === 'DECODE_AND_MERGE_SLASHES') path = mergeSlashes(path);
  return { path, query };
}
