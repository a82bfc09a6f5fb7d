/**
 * Header fields of the downstream HTTP/1.1 codec: the request's raw pairs as the map the chain
 * reads (node:http's IncomingMessage rules, which the proxy and its tests were built on), and a
 * response head as bytes, with the checks node:http's writeHead makes (a field a route rewrote
 * into something unsendable must fail the response, not corrupt the connection).
 */
import { STATUS_CODES, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

/** Fields where a repeat is dropped (the first wins), as node:http does. */
const FIRST_WINS: ReadonlySet<string> = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent',
]);

/**
 * Raw pairs ([name, value, ...]) as a map with lower-case names: `set-cookie` an array, repeated
 * `cookie` joined with `; `, the FIRST_WINS fields' repeats dropped, any other repeat joined with `, `.
 */
export function requestHeaderMap(pairs: readonly string[]): IncomingHttpHeaders {
  // A plain object (fast properties); the one name that would reach the prototype is dropped.
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = (pairs[i] as string).toLowerCase();
    const value = pairs[i + 1] as string;
    const prev = out[name];
    if (prev === undefined) {
      if (name === '__proto__') continue;
      out[name] = name === 'set-cookie' ? [value] : value;
    } else if (Array.isArray(prev)) prev.push(value);
    else if (!FIRST_WINS.has(name)) out[name] = `${prev}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out;
}

/** RFC 9110 token characters (a field name). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http refuses in a field value: controls other than HTAB, and DEL. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** node:http's messages for the same mistakes, so logs read the same as before. */
export class InvalidHeaderError extends TypeError {
  constructor(readonly code: 'ERR_INVALID_HTTP_TOKEN' | 'ERR_INVALID_CHAR' | 'ERR_HTTP_INVALID_STATUS_CODE', message: string) {
    super(message);
  }
}

/** How the body after a head is framed. */
export type BodyFraming = 'length' | 'chunked' | 'none';

export interface ResponseHead {
  text: string;
  framing: BodyFraming;
  /** The response said `connection: close` (draining, or a local reply ending the connection). */
  close: boolean;
}

let cachedDate = '';
let cachedDateSecond = -1;

/** `Date` at one-second resolution, formatted once a second at most. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}

/**
 * The status line and fields. Adds `date` when absent and `transfer-encoding: chunked` when a
 * body has no length; drops fields whose value is undefined. Throws InvalidHeaderError for a
 * name that is not a token or a value with a control character.
 */
export function responseHead(status: number, headers: OutgoingHttpHeaders, noBody: boolean, keepAlive: boolean): ResponseHead {
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new InvalidHeaderError('ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${status}`);
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
  let hasLength = false;
  let hasDate = false;
  let close = !keepAlive;
  let chunkedAlready = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (!TOKEN.test(name)) throw new InvalidHeaderError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
    const lower = name.length === 14 || name.length === 10 || name.length === 4 || name.length === 17 ? name.toLowerCase() : '';
    if (lower === 'content-length') hasLength = true;
    else if (lower === 'date') hasDate = true;
    else if (lower === 'connection') {
      if (/\bclose\b/i.test(String(value))) close = true;
      continue; // written once, below, from `close`
    } else if (lower === 'transfer-encoding') {
      chunkedAlready = /chunked\s*$/i.test(String(value));
    }
    if (Array.isArray(value)) {
      for (const v of value) text += field(name, v);
    } else text += field(name, typeof value === 'string' ? value : String(value));
  }
  if (!hasDate) text += `date: ${httpDate()}\r\n`;
  let framing: BodyFraming;
  if (noBody) framing = 'none';
  else if (hasLength) framing = 'length';
  else {
    framing = 'chunked';
    if (!chunkedAlready) text += 'transfer-encoding: chunked\r\n';
  }
  if (close) text += 'connection: close\r\n';
  return { text: `${text}\r\n`, framing, close };
}

function field(name: string, value: string): string {
  if (INVALID_VALUE.test(value)) throw new InvalidHeaderError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  return `${name}: ${value}\r\n`;
}

/** Trailer fields after the last chunk, checked like the head's. */
export function trailerText(trailers: Record<string, string>): string {
  let text = '';
  for (const name in trailers) {
    const value = trailers[name];
    if (value === undefined) continue;
    if (!TOKEN.test(name)) throw new InvalidHeaderError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
    text += field(name, value);
  }
  return text;
}
