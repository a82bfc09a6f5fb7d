/**
 * Streams a request body to the upstream socket in the framing the head announced (a fixed
 * Content-Length or chunked), with backpressure both ways: a full socket pauses the source, a
 * drained one resumes it. A source that fails, ends early or runs past its declared length is
 * reported once through `onError`; the caller then resets the connection.
 */
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type { Framing } from './request-head.js';

const noop = (): void => {};
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

export class BodyWriter {
  #written = 0;
  #done = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly source: Readable,
    private readonly framing: Framing,
    private readonly onEnd: () => void,
    private readonly onError: (err: Error) => void,
  ) {
    source.on('data', this.#onData);
    source.once('end', this.#onEnd);
    source.once('error', this.#onSourceError);
    source.once('close', this.#onClose);
    if (source.isPaused()) source.resume();
  }

  get done(): boolean {
    return this.#done;
  }

  /**
   * Stop writing (the exchange ended early). The rest of the source is read and dropped, so a
   * downstream connection it comes from stays usable for its next request.
   */
  detach(): void {
    if (this.#done) return;
    this.#done = true;
    this.#unlisten();
    // Our 'error' listener is gone: a later error of the source must not become an uncaught one.
    this.source.on('error', noop);
    this.source.resume();
  }

  #unlisten(): void {
    this.source.off('data', this.#onData);
    this.source.off('end', this.#onEnd);
    this.source.off('error', this.#onSourceError);
    this.source.off('close', this.#onClose);
    this.socket.off('drain', this.#onDrain);
  }

  #fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#unlisten();
    this.source.on('error', noop);
    this.onError(err);
  }

  #onData = (data: Buffer | string): void => {
    if (this.#done) return;
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length === 0) return;
    this.#written += chunk.length;
    let ok: boolean;
    if (this.framing.kind === 'chunked') {
      this.socket.cork();
      this.socket.write(chunk.length.toString(16) + CRLF, 'latin1');
      this.socket.write(chunk);
      ok = this.socket.write(CRLF, 'latin1');
      this.socket.uncork();
    } else {
      if (this.framing.kind === 'length' && this.#written > this.framing.length) {
        this.#fail(new Error(`request body longer than its content-length ${this.framing.length}`));
        return;
      }
      ok = this.socket.write(chunk);
    }
    if (!ok) {
      this.source.pause();
      this.socket.once('drain', this.#onDrain);
    }
  };

  #onDrain = (): void => {
    if (!this.#done) this.source.resume();
  };

  #onEnd = (): void => {
    if (this.#done) return;
    if (this.framing.kind === 'length' && this.#written !== this.framing.length) {
      this.#fail(new Error(`request body of ${this.#written} bytes, content-length ${this.framing.length}`));
      return;
    }
    this.#done = true;
    this.#unlisten();
    if (this.framing.kind === 'chunked') this.socket.write(LAST_CHUNK, 'latin1');
    this.onEnd();
  };

  #onSourceError = (err: Error): void => this.#fail(err);

  #onClose = (): void => {
    // 'close' after 'end' is the normal autoDestroy; before it, the body was cut short.
    if (!this.#done) this.#fail(new Error('request body closed before its end'));
  };
}
