/**
 * The upstream client's response parser: Node's llhttp (../../llhttp.ts), strict. It parses in
 * native code and calls back synchronously inside execute(), which is what makes the proxy's
 * HTTP/1 client fast: no WebAssembly parser and no extra event-loop turn per response (the cost
 * measured in undici).
 */
import { HTTPParser, type ParseError } from '../../llhttp.js';

export type { ParseError } from '../../llhttp.js';

/** The callbacks llhttp makes, in the slots node's binding reads them from. */
export interface ParserCallbacks {
  /** Header pairs flushed early (more than 32 fields) or trailers after the body. */
  onHeaders(headers: string[], url: string): void;
  /**
   * End of a response head. `headers` is null when they were flushed through onHeaders. Returns
   * 0 to read a body, 1 to skip it (HEAD, or a 1xx whose next message follows).
   */
  onHeadersComplete(
    versionMajor: number,
    versionMinor: number,
    headers: string[] | null,
    method: unknown,
    url: unknown,
    statusCode: number,
    statusMessage: string,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number;
  /** A piece of body, already copied out of the socket's buffer. */
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

export interface ResponseParser {
  /** Bytes consumed, or the parse error. */
  execute(data: Buffer): number | ParseError;
  /** End of input: completes a body delimited by the connection's end, or errors. */
  finish(): ParseError | undefined;
  close(): void;
}

/** The async_hooks resource node's binding asks for; one shared object is enough for us. */
const RESOURCE = Object.freeze({ type: 'WEFT_UPSTREAM_HTTP1' });

/**
 * A strict response parser (no lenient flags: ambiguous framing such as Content-Length with
 * Transfer-Encoding, duplicate lengths and bad header bytes are errors). `maxHeaderSize` 0 means
 * node's default (16 KiB), the limit undici applied before.
 */
export function responseParser(callbacks: ParserCallbacks, maxHeaderSize = 0): ResponseParser {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, RESOURCE, maxHeaderSize, HTTPParser.kLenientNone);
  parser[HTTPParser.kOnHeaders] = callbacks.onHeaders;
  parser[HTTPParser.kOnHeadersComplete] = callbacks.onHeadersComplete;
  parser[HTTPParser.kOnBody] = callbacks.onBody;
  parser[HTTPParser.kOnMessageComplete] = callbacks.onMessageComplete;
  return parser;
}
