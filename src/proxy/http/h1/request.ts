/**
 * A downstream HTTP/1.1 request as the chain reads it: method, target, version and headers in
 * node:http's IncomingMessage shape, and the body as a Readable the connection pushes into
 * straight from the parser. A full body buffer pauses the socket; reading resumes it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

/** What the request's body needs from its connection. */
export interface BodySource {
  resumeReading(): void;
}

export class Http1Request extends Readable {
  /** True once the whole body was received (node:http's `complete`). */
  complete = false;
  readonly httpVersion: string;

  constructor(
    readonly socket: Socket,
    private readonly source: BodySource,
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    readonly headers: IncomingHttpHeaders,
    readonly rawHeaders: string[],
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.httpVersion = `${httpVersionMajor}.${httpVersionMinor}`;
  }

  /** Every value of every field, repeats kept (node:http's `headersDistinct`), made on first use. */
  get headersDistinct(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const raw = this.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      if (name === '__proto__') continue;
      (out[name] ??= []).push(raw[i + 1] as string);
    }
    return out;
  }

  /**
   * The whole body has arrived. A request that had no body is ended only when someone reads it:
   * most requests have none, and ending a stream nobody reads still costs a few stream turns.
   */
  received(hadBody: boolean): void {
    this.complete = true;
    if (hadBody || this.readableFlowing !== null) this.push(null);
  }

  override _read(): void {
    if (this.complete) this.push(null);
    else this.source.resumeReading();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // As node:http: a request cut short reports its error only to someone listening for it.
    callback(err && this.listenerCount('error') > 0 ? err : null);
  }
}
