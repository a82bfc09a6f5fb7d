/**
 * One request and its response on an HTTP/1.1 connection (connection.ts drives it from the
 * parser's callbacks). Most responses are small, have a Content-Length and arrive in the same
 * read as their head; such a response is handed over with `completeBody` and no stream at all:
 * its body Readable, its trailers promise and its end-of-stream notice are made only if someone
 * asks (a Readable and two promises per request were a measurable part of the client's cost).
 * Any other body streams through a Readable with backpressure, made when the head arrives.
 */
import { Readable } from 'node:stream';
import { ResetError } from '../errors.js';
import type { Headers } from '../headers.js';
import type { AttemptResponse } from '../pool.js';
import type { BodyWriter } from './body-writer.js';

const noop = (): void => {};
const NO_TRAILERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const EMPTY = Buffer.alloc(0);
/** Bodies up to this size (by their Content-Length) are kept whole instead of streamed. */
export const WHOLE_BODY_LIMIT = 16 * 1024;

/** What an exchange needs from its connection. */
export interface ExchangeConnection {
  closing: boolean;
  resumeFor(ex: Exchange): void;
  streamEnded(ex: Exchange): void;
}

type DoneListener = (err: ResetError | null) => void;

class ResponseBody extends Readable {
  constructor(private readonly exchange: Exchange) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.exchange.resumeReading();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // Also runs after a normal end (autoDestroy): only a body cut short aborts the exchange.
    this.exchange.bodyDestroyed(err);
    callback(err);
  }
}

/** The response as the pool hands it over; every stream-shaped part is made on first use. */
class Http1Response implements AttemptResponse {
  readonly protocol = 'http1' as const;

  constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly exchange: Exchange,
  ) {}

  get body(): Readable {
    return this.exchange.bodyStream();
  }

  get completeBody(): Buffer | undefined {
    return this.exchange.wholeBody();
  }

  get trailers(): Promise<Record<string, string>> {
    return this.exchange.trailers();
  }

  onDone(fn: DoneListener): void {
    this.exchange.onDone(fn);
  }
}

export class Exchange {
  finished = false;
  informational = false;
  /** Header pairs flushed before the head completed, then the trailers. */
  pairs: string[] = [];
  writer: BodyWriter | undefined;
  unsubscribe: (() => void) | undefined;
  #responded = false;
  #body: ResponseBody | undefined;
  /** Body chunks kept while the body may still be handed over whole; undefined once streaming. */
  #held: Buffer[] | undefined;
  #error: ResetError | undefined;
  #trailerValues: Record<string, string> | undefined;
  #trailers: Promise<Record<string, string>> | undefined;
  #settleTrailers: (t: Record<string, string>) => void = noop;
  #done: DoneListener | DoneListener[] | undefined;

  constructor(
    readonly conn: ExchangeConnection,
    readonly method: string,
    readonly resolve: (res: AttemptResponse) => void,
    readonly reject: (err: ResetError) => void,
  ) {}

  /**
   * The head arrived. A body with a small Content-Length (or none at all: HEAD, 204, 304) is
   * kept whole; any other starts streaming now, so that backpressure applies from its first byte.
   */
  respond(status: number, headers: Headers): void {
    this.#responded = true;
    if (this.method === 'HEAD' || status === 204 || status === 304 || smallLength(headers['content-length'])) this.#held = [];
    else this.bodyStream();
    this.resolve(new Http1Response(status, headers, this));
  }

  /** A piece of body from the parser; false when the socket should pause. */
  onBody(chunk: Buffer): boolean {
    const held = this.#held;
    if (held) {
      held.push(chunk);
      return true;
    }
    const body = this.#body;
    return !body || body.push(chunk) || body.destroyed;
  }

  bodyStream(): Readable {
    if (this.#body) return this.#body;
    const body = new ResponseBody(this);
    // Errors reach consumers through pipeline()/for-await; an unread body must not crash us.
    body.on('error', noop);
    this.#body = body;
    const held = this.#held;
    this.#held = undefined;
    if (held) for (const chunk of held) body.push(chunk);
    if (this.#error) body.destroy(this.#error);
    else if (this.finished) body.push(null);
    return body;
  }

  /** The whole body when it has all arrived and no stream took it; undefined otherwise. */
  wholeBody(): Buffer | undefined {
    const held = this.#held;
    if (!held || !this.finished || this.#error) return undefined;
    if (held.length === 1) return held[0];
    const whole = held.length === 0 ? EMPTY : Buffer.concat(held);
    this.#held = [whole];
    return whole;
  }

  trailers(): Promise<Record<string, string>> {
    if (!this.#trailers) {
      const values = this.#trailerValues;
      this.#trailers = values ? Promise.resolve(values) : new Promise((r) => (this.#settleTrailers = r));
    }
    return this.#trailers;
  }

  /** `fn` runs once the exchange is over (at once if it is): null if it completed, else the reset. */
  onDone(fn: DoneListener): void {
    if (this.finished) {
      fn(this.#error ?? null);
      return;
    }
    const done = this.#done;
    if (done === undefined) this.#done = fn;
    else if (Array.isArray(done)) done.push(fn);
    else this.#done = [done, fn];
  }

  resumeReading(): void {
    if (!this.finished) this.conn.resumeFor(this);
  }

  bodyDestroyed(err: Error | null): void {
    if (!this.finished) this.fail(new ResetError('local reset', { cause: err ?? undefined }));
  }

  complete(trailers: Record<string, string>): void {
    if (this.finished) return;
    this.finished = true;
    this.unsubscribe?.();
    // The upstream answered before the request body was all sent: the connection's framing is
    // now unknown, so it is not reused.
    if (this.writer && !this.writer.done) {
      this.writer.detach();
      this.conn.closing = true;
    }
    this.#body?.push(null);
    this.conn.streamEnded(this);
    this.#settle(trailers, null);
  }

  fail(err: ResetError): void {
    if (this.finished) return;
    this.finished = true;
    this.#error = err;
    this.#held = undefined;
    this.unsubscribe?.();
    this.writer?.detach();
    this.conn.closing = true;
    if (!this.#responded) this.reject(err);
    else if (this.#body && !this.#body.destroyed) this.#body.destroy(err);
    this.conn.streamEnded(this);
    this.#settle(NO_TRAILERS, err);
  }

  /** After the connection moved on, as when these were promises settling a turn later. */
  #settle(trailers: Record<string, string>, err: ResetError | null): void {
    this.#trailerValues = trailers;
    this.#settleTrailers(trailers);
    const done = this.#done;
    this.#done = undefined;
    if (typeof done === 'function') done(err);
    else if (done) for (const fn of done) fn(err);
  }
}

/** A single Content-Length small enough to keep whole (a list means the parser let it through as one). */
function smallLength(value: string | string[] | undefined): boolean {
  if (typeof value !== 'string' || value.length > 5) return false;
  const n = Number(value);
  return n >= 0 && n <= WHOLE_BODY_LIMIT;
}

export { NO_TRAILERS };
