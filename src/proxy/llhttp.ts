/**
 * Node's own HTTP/1 parser (llhttp, in C++), the one node:http uses, reached through
 * `node:_http_common` as node:http itself does (no deprecation warning, unlike
 * process.binding('http_parser')). Both of the proxy's HTTP/1 codecs parse with it: the
 * downstream server (http/h1/parser.ts) and the upstream client (upstream/http1/parser.ts). It
 * parses in native code and calls back synchronously inside execute().
 */
import { createRequire } from 'node:module';

/** llhttp's error, as execute() and finish() return it (never throw it). */
export interface ParseError extends Error {
  code: string;
  reason?: string;
  bytesParsed?: number;
}

export interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParseError;
  finish(): ParseError | undefined;
  close(): void;
  consume(handle: object): void;
  unconsume(): void;
  getCurrentBuffer(): Buffer;
  /** The callbacks, in the slots the binding reads them from (kOnHeaders...). */
  [slot: number]: unknown;
}

export interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  /** Strict: ambiguous framing (Content-Length with Transfer-Encoding, repeated lengths, bad bytes) is an error. */
  kLenientNone: number;
}

const common = createRequire(import.meta.url)('node:_http_common') as { HTTPParser: NativeParserClass; methods: string[] };

export const HTTPParser = common.HTTPParser;
/** Method names by llhttp's method number. */
export const METHODS: readonly string[] = common.methods;
