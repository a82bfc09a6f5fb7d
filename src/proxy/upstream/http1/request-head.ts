/**
 * The head of an HTTP/1.1 request as the upstream gets it, and how its body is framed. Headers
 * come already cleaned of hop-by-hop fields (headers.ts); this checks every name, value and the
 * request target once more, because a CR or LF reaching the wire would split the request
 * (smuggling), and frames the body itself: any Content-Length from the client is replaced by the
 * length of what is actually sent, a stream of unknown length goes chunked.
 */
import type { Headers } from '../headers.js';

/** Methods whose requests carry a body by definition: an empty one is sent as `content-length: 0`. */
const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible ASCII, obs-text, space and tab (RFC 9110 §5.5); no CR, LF or NUL. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Request targets: no whitespace or control characters. */
const INVALID_TARGET = /[^\x21-\x7e\x80-\xff]/;

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

/** How the body follows the head. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

const NONE: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };

export interface RequestHead {
  head: string;
  framing: Framing;
}

function declaredLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,15}$/.test(text.trim())) throw new InvalidRequestError(`invalid content-length: ${String(text)}`);
  return Number(text.trim());
}

/**
 * `body` says what will follow: a Buffer (its length), a stream (`stream`), or none. Throws
 * InvalidRequestError for anything that cannot be written safely.
 */
export function requestHead(method: string, path: string, headers: Headers, body: Buffer | 'stream' | null, defaultHost: string): RequestHead {
  if (!TOKEN.test(method)) throw new InvalidRequestError(`invalid method: ${method}`);
  if (path.length === 0 || INVALID_TARGET.test(path)) throw new InvalidRequestError(`invalid request target: ${JSON.stringify(path)}`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let declared: number | undefined;
  let hasHost = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name === 'content-length') {
      declared = declaredLength(value);
      continue;
    }
    if (!TOKEN.test(name)) throw new InvalidRequestError(`invalid header name: ${JSON.stringify(name)}`);
    if (name === 'host') hasHost = true;
    if (typeof value === 'string') {
      if (INVALID_VALUE.test(value)) throw new InvalidRequestError(`invalid value for header ${name}`);
      head += `${name}: ${value}\r\n`;
    } else {
      for (const v of value) {
        if (INVALID_VALUE.test(v)) throw new InvalidRequestError(`invalid value for header ${name}`);
        head += `${name}: ${v}\r\n`;
      }
    }
  }
  if (!hasHost) head += `host: ${defaultHost}\r\n`;
  let framing = NONE;
  if (body === 'stream') {
    framing = declared === undefined ? CHUNKED : { kind: 'length', length: declared };
  } else if (body !== null && body.length > 0) {
    if (declared !== undefined && declared !== body.length) throw new InvalidRequestError(`content-length ${declared} but the body has ${body.length} bytes`);
    framing = { kind: 'length', length: body.length };
  }
  if (framing.kind === 'chunked') head += 'transfer-encoding: chunked\r\n';
  else if (framing.kind === 'length') head += `content-length: ${framing.length}\r\n`;
  else if (EXPECTS_PAYLOAD.has(method)) head += 'content-length: 0\r\n';
  return { head: head + 'connection: keep-alive\r\n\r\n', framing };
}
