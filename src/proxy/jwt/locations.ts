/**
 * Where a rule looks for tokens and how one is taken out, as Envoy's jwt_authn extractor.cc:
 * every value of each configured header (a value without the prefix is skipped, so
 * `Authorization: Basic ...` is no token at all; the prefix may appear anywhere in the value and
 * the token starts at the first base64url character after it), the first value of each query
 * parameter (percent-decoded), and each cookie. A rule naming no location uses Envoy's defaults,
 * `Authorization: Bearer <token>` and `?access_token=`. Removing a token (forwardOriginalToken
 * false) drops the whole header, or the parameter from the query; cookies stay, as in Envoy.
 */

export interface HeaderLocation {
  /** Lower-case, as Node keys request headers. */
  readonly name: string;
  readonly prefix: string;
}

export interface Locations {
  readonly headers: readonly HeaderLocation[];
  readonly params: readonly string[];
  readonly cookies: readonly string[];
}

export interface FoundToken {
  readonly token: string;
  readonly kind: 'header' | 'param' | 'cookie';
  /** The header (lower-case), parameter or cookie name. */
  readonly name: string;
}

/** What extraction reads and removal changes; the exchange provides it. */
export interface TokenCarrier {
  /** Every value of a request header, in order ([] when absent). */
  headerValues(name: string): readonly string[];
  /** The query string with its leading `?`, or ''. */
  query: string;
  removeHeader(name: string): void;
}

const DEFAULT_LOCATIONS: Locations = { headers: [{ name: 'authorization', prefix: 'Bearer ' }], params: ['access_token'], cookies: [] };
const BASE64URL_OR_DOT = /[A-Za-z0-9_\-.]/;

export function locationsOf(rule: { fromHeaders?: readonly { name: string; prefix?: string }[]; fromParams?: readonly string[]; fromCookies?: readonly string[] }): Locations {
  const headers = (Array.isArray(rule.fromHeaders) ? rule.fromHeaders : [])
    .filter((h) => typeof h?.name === 'string' && h.name !== '')
    .map((h) => ({ name: h.name.toLowerCase(), prefix: typeof h.prefix === 'string' ? h.prefix : '' }));
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s !== '') : []);
  const params = strings(rule.fromParams);
  const cookies = strings(rule.fromCookies);
  if (headers.length === 0 && params.length === 0 && cookies.length === 0) return DEFAULT_LOCATIONS;
  return { headers, params, cookies };
}

export function extractTokens(locations: Locations, carrier: TokenCarrier): FoundToken[] {
  const found: FoundToken[] = [];
  for (const h of locations.headers) {
    for (const value of carrier.headerValues(h.name)) {
      let token = value;
      if (h.prefix !== '') {
        const at = value.indexOf(h.prefix);
        if (at < 0) continue;
        token = tokenAfter(value, at + h.prefix.length);
      }
      found.push({ token, kind: 'header', name: h.name });
    }
  }
  if (locations.params.length > 0 && carrier.query.length > 1) {
    for (const name of locations.params) {
      const v = firstParam(carrier.query, name);
      if (v !== undefined) found.push({ token: v, kind: 'param', name });
    }
  }
  if (locations.cookies.length > 0) {
    const cookies = parseCookies(carrier.headerValues('cookie'));
    for (const name of locations.cookies) {
      const v = cookies.get(name);
      if (v !== undefined) found.push({ token: v, kind: 'cookie', name });
    }
  }
  return found;
}

/** ExtractorImpl::extractJWT: from the first base64url (or dot) character on; the value as is if none. */
function tokenAfter(value: string, from: number): string {
  for (let i = from; i < value.length; i++) {
    if (BASE64URL_OR_DOT.test(value[i] as string)) return value.slice(i);
  }
  return value;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function firstParam(query: string, name: string): string | undefined {
  for (const pair of query.slice(1).split('&')) {
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    if (key === name) return eq < 0 ? '' : decode(pair.slice(eq + 1));
  }
  return undefined;
}

/** Http::Utility::parseCookies: `k=v` pairs split on `;`, quotes around a value dropped, first one wins. */
function parseCookies(headers: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const header of headers) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const key = part.slice(0, eq).trim();
      let value = part.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (key !== '' && !out.has(key)) out.set(key, value);
    }
  }
  return out;
}

/** Takes a verified token out of the request before it goes upstream. */
export function removeToken(found: FoundToken, carrier: TokenCarrier): void {
  if (found.kind === 'header') carrier.removeHeader(found.name);
  else if (found.kind === 'param') carrier.query = withoutParam(carrier.query, found.name);
}

function withoutParam(query: string, name: string): string {
  if (query.length <= 1) return query;
  const kept = query.slice(1).split('&').filter((pair) => {
    const eq = pair.indexOf('=');
    return decode(eq < 0 ? pair : pair.slice(0, eq)) !== name;
  });
  return kept.length === 0 ? '' : `?${kept.join('&')}`;
}
