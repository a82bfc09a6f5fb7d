/**
 * Header hygiene at the upstream edge: connection-specific headers belong to one hop and are
 * never forwarded (RFC 9110 §7.6.1; HTTP/2 forbids them outright), `expect` is answered by the
 * proxy itself (Envoy's default), and HTTP/2 needs pseudo-headers instead of `host`.
 */
export type Headers = Record<string, string | string[]>;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

const NONE: ReadonlySet<string> = new Set();

function connectionTokens(headers: Headers): ReadonlySet<string> {
  const value = headers['connection'];
  if (value === undefined) return NONE; // the usual case: the core already dropped it
  const tokens = new Set<string>();
  for (const v of Array.isArray(value) ? value : value ? [value] : []) {
    for (const t of v.split(',')) if (t.trim()) tokens.add(t.trim().toLowerCase());
  }
  return tokens;
}

function forwardable(name: string, value: string | string[], named: ReadonlySet<string>): boolean {
  if (HOP_BY_HOP.has(name) || named.has(name) || name === 'expect') return false;
  if (name === 'te') return (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase() === 'trailers';
  return typeof value === 'string' || Array.isArray(value);
}

/** Request headers for an HTTP/1.1 upstream; `:authority` (if given) becomes `host`. */
export function http1RequestHeaders(headers: Headers): Headers {
  const named = connectionTokens(headers);
  const out: Headers = {};
  for (const key in headers) {
    if (!Object.hasOwn(headers, key)) continue;
    const value = headers[key] as string | string[];
    const name = key.toLowerCase();
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (forwardable(name, value, named)) out[name] = value;
  }
  const authority = headers[':authority'];
  if (out['host'] === undefined && typeof authority === 'string') out['host'] = authority;
  if (Array.isArray(out['host'])) out['host'] = out['host'][0] ?? '';
  return out;
}

/** Request headers for an HTTP/2 upstream, pseudo-headers first. */
export function http2RequestHeaders(method: string, path: string, headers: Headers): Headers {
  const named = connectionTokens(headers);
  const hostHeader = headers['host'] ?? headers[':authority'];
  const out: Headers = {
    ':method': method,
    ':path': path,
    ':scheme': 'http',
    ':authority': (Array.isArray(hostHeader) ? hostHeader[0] : hostHeader) ?? 'localhost',
  };
  for (const [key, value] of Object.entries(headers)) {
    const name = key.toLowerCase();
    if (name.startsWith(':') || name === 'host') continue;
    if (forwardable(name, value, named)) out[name] = value;
  }
  return out;
}

/** Response headers as the proxy core should see them: no hop-by-hop, no pseudo-headers. */
export function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const conn = raw['connection'];
  let named = NONE;
  if (conn !== undefined) {
    const tokens = new Set<string>();
    for (const v of Array.isArray(conn) ? conn : [conn]) for (const t of v.split(',')) tokens.add(t.trim().toLowerCase());
    named = tokens;
  }
  const out: Headers = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    const name = key.toLowerCase();
    if (value === undefined || name.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Trailers flattened to single strings (repeated fields joined as HTTP allows). */
export function flattenTrailers(raw: Record<string, string | string[] | undefined> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (value === undefined || key.startsWith(':')) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
