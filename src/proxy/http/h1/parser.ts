/**
 * The downstream codec's request parser: Node's llhttp (../../llhttp.ts), the one node:http's
 * server uses. Strict: no lenient flags, so ambiguous framing (Content-Length with
 * Transfer-Encoding, repeated lengths, bad bytes in a field) is an error, never a guess (request
 * smuggling). It calls back synchronously inside execute().
 */
import { HTTPParser, METHODS, type ParseError } from '../../llhttp.js';

export type { ParseError } from '../../llhttp.js';

export interface RequestCallbacks {
  onMessageBegin(): void;
  /** Header pairs (and URL pieces) flushed before the head completed (more than 32 fields). */
  onHeaders(pairs: string[], url: string): void;
  /** Returns 0 to read a body, 2 to stop after the head (upgrade, CONNECT). */
  onHeadersComplete(versionMajor: number, versionMinor: number, pairs: string[] | null, method: number, url: string | null, upgrade: boolean, keepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
  /** After each read the parser took straight from the socket (consume): bytes parsed, or the error. */
  onExecute(result: number | ParseError): void;
}

export interface RequestParser {
  /** Bytes consumed, or the parse error. */
  execute(data: Buffer): number | ParseError;
  /**
   * Reads the socket's stream in C++, as node:http's server does: no 'data' event, no Buffer and
   * no Readable push per read (~1.6 µs a request, measured). onExecute reports each read.
   */
  consume(handle: object): void;
  unconsume(): void;
  /** A copy of the data the parser is reading (for the bytes after an upgrade's head). */
  getCurrentBuffer(): Buffer;
  /** End of input: an error when a request was cut short. */
  finish(): ParseError | undefined;
  close(): void;
}

/** The libuv stream under a net.Socket or TLSSocket (node:http's server reads it the same way). */
export interface StreamHandle {
  isStreamBase?: boolean;
  /** Set while a parser consumes it, so that no second one does. */
  _consumed?: boolean;
  /** net.Socket's own record of whether the handle is reading. */
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}

/** The socket's handle when a parser can read from it directly (a stream no one consumes yet). */
export function consumableHandle(socket: object): StreamHandle | undefined {
  const handle = (socket as { _handle?: StreamHandle | null })._handle;
  return handle && handle.isStreamBase === true && handle._consumed !== true && typeof handle.readStart === 'function' ? handle : undefined;
}

/** The async_hooks resource node's binding asks for; one shared object is enough. */
const RESOURCE = Object.freeze({ type: 'WEFT_DOWNSTREAM_HTTP1' });

export function methodName(index: number): string {
  return METHODS[index] ?? 'GET';
}

/** `maxHeaderSize` 0 means node's default (16 KiB). */
export function requestParser(callbacks: RequestCallbacks, maxHeaderSize: number): RequestParser {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, RESOURCE, maxHeaderSize, HTTPParser.kLenientNone);
  parser[HTTPParser.kOnMessageBegin] = callbacks.onMessageBegin;
  parser[HTTPParser.kOnHeaders] = callbacks.onHeaders;
  parser[HTTPParser.kOnHeadersComplete] = (major: number, minor: number, pairs: string[] | null, method: number, url: string | null, _status: unknown, _message: unknown, upgrade: boolean, keepAlive: boolean) =>
    callbacks.onHeadersComplete(major, minor, pairs, method, url, upgrade, keepAlive);
  parser[HTTPParser.kOnBody] = callbacks.onBody;
  parser[HTTPParser.kOnMessageComplete] = callbacks.onMessageComplete;
  parser[HTTPParser.kOnExecute] = callbacks.onExecute;
  return parser;
}
