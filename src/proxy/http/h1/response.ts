/**
 * A downstream HTTP/1.1 response, written straight to the socket: the head waits until the first
 * write or end, so a small response leaves in one write with its body (one syscall). It has the
 * part of node:http's ServerResponse the proxy uses (writeHead, write with 'drain', end,
 * addTrailers, destroy, headersSent, writableFinished, 'close'), so a Readable can pipe into it.
 */
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { responseHead, trailerText, type BodyFraming } from './headers.js';

/** What the response needs from its connection. */
export interface ResponseSink {
  readonly socket: Socket;
  /** The response was written completely; `close`: the connection must end after it. */
  responseEnded(res: Http1Response, close: boolean): void;
}

const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n';

/** A small body is copied behind its head: one plain write is cheaper than cork + writev. */
const JOIN_BELOW = 16 * 1024;

function writeJoined(socket: Socket, head: string, data: Buffer): void {
  if (data.length >= JOIN_BELOW) {
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(data);
    socket.uncork();
    return;
  }
  const out = Buffer.allocUnsafe(head.length + data.length);
  out.write(head, 0, 'latin1');
  data.copy(out, head.length);
  socket.write(out);
}

function emitClose(res: Http1Response): void {
  res.emit('close');
}

export class Http1Response extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  #head: string | undefined = undefined;
  #framing: BodyFraming = 'none';
  #close = false;
  #trailers: Record<string, string> | undefined = undefined;
  #waitingForDrain = false;
  /**
   * Called once, when the response has ended or its connection closed before: the request's own
   * bookkeeping (handler.ts), without the event turn and listener a 'close' handler costs.
   */
  onEnded: (() => void) | undefined = undefined;

  constructor(
    private readonly sink: ResponseSink,
    /** HEAD: the head says what a GET would send, but no body follows. */
    private readonly headRequest: boolean,
    /** The client's request allows another one after this response. */
    private readonly keepAlive: boolean,
  ) {
    super();
  }

  /** Throws (as node:http does) for an invalid status, field name or value; nothing is written then. */
  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    if (this.headersSent || this.#head !== undefined) throw new Error('ERR_HTTP_HEADERS_SENT: the head was written already');
    const noBody = this.headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    const head = responseHead(status, headers, noBody, this.keepAlive);
    this.statusCode = status;
    this.#head = head.text;
    this.#framing = head.framing;
    this.#close = head.close;
    return this;
  }

  /** Writes a piece of body; false when the socket's buffer is full ('drain' follows). */
  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (this.#head === undefined && !this.headersSent) this.writeHead(this.statusCode);
    const socket = this.sink.socket;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const head = this.#takeHead();
    let ok: boolean;
    if (this.#framing === 'none' || data.length === 0) {
      ok = head === undefined ? !socket.writableNeedDrain : socket.write(head, 'latin1');
    } else if (this.#framing === 'chunked') {
      socket.cork();
      socket.write(`${head ?? ''}${data.length.toString(16)}${CRLF}`, 'latin1');
      socket.write(data);
      ok = socket.write(CRLF, 'latin1');
      socket.uncork();
    } else if (head !== undefined) {
      socket.cork();
      socket.write(head, 'latin1');
      ok = socket.write(data);
      socket.uncork();
    } else ok = socket.write(data);
    if (!ok && !this.#waitingForDrain) {
      this.#waitingForDrain = true;
      socket.once('drain', this.#onDrain);
    }
    return ok;
  }

  addTrailers(trailers: Record<string, string>): void {
    this.#trailers = trailers;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableEnded || this.destroyed) return this;
    if (this.#head === undefined && !this.headersSent) this.writeHead(this.statusCode);
    const socket = this.sink.socket;
    const data = chunk === undefined ? undefined : typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const head = this.#takeHead();
    const hasData = data !== undefined && data.length > 0 && this.#framing !== 'none';
    if (this.#framing === 'chunked') {
      const trailers = this.#trailers ? trailerText(this.#trailers) : '';
      const prefix = `${head ?? ''}${hasData ? `${data.length.toString(16)}${CRLF}` : ''}`;
      if (hasData) {
        socket.cork();
        socket.write(prefix, 'latin1');
        socket.write(data);
        socket.write(`${CRLF}${LAST_CHUNK}${trailers}${CRLF}`, 'latin1');
        socket.uncork();
      } else socket.write(`${prefix}${LAST_CHUNK}${trailers}${CRLF}`, 'latin1');
    } else if (hasData) {
      if (head !== undefined) writeJoined(socket, head, data);
      else socket.write(data);
    } else if (head !== undefined) socket.write(head, 'latin1');
    this.writableEnded = true;
    this.writableFinished = true;
    // Before the connection moves on to the next request, which has bookkeeping of its own.
    this.#ended();
    this.sink.responseEnded(this, this.#close);
    if (this.listenerCount('close') > 0) process.nextTick(emitClose, this);
    return this;
  }

  /** Resets the response: on HTTP/1 that can only mean closing the connection. */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.sink.socket.destroy();
    return this;
  }

  /** The connection closed before this response ended. */
  connectionClosed(): void {
    if (this.writableFinished) return;
    this.destroyed = true;
    this.#ended();
    this.emit('close');
  }

  #ended(): void {
    const onEnded = this.onEnded;
    this.onEnded = undefined;
    onEnded?.();
  }

  #takeHead(): string | undefined {
    const head = this.#head;
    if (head === undefined) return undefined;
    this.#head = undefined;
    this.headersSent = true;
    return head;
  }

  #onDrain = (): void => {
    this.#waitingForDrain = false;
    this.emit('drain');
  };
}
