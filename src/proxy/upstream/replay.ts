/**
 * Request bodies for retries. Envoy buffers the request body while streaming it upstream so a
 * retry can send it again, and gives up retrying once the body outgrows its buffer limit. Here a
 * streamed body is read once, kept in memory up to `limit` bytes (1 MiB by default, Envoy's
 * default connection buffer limit) and fed to the current attempt as it arrives, so streaming
 * (gRPC included) is never held up waiting for the whole body. Each attempt gets a fresh stream
 * that replays what was kept, then continues live. Past the limit the kept bytes are dropped and
 * `replayable` turns false: the attempt in flight continues, later ones are refused.
 */
import { Readable } from 'node:stream';

export const DEFAULT_RETRY_BUFFER_LIMIT = 1024 * 1024;

export interface RequestBody {
  /** Body for the next attempt; undefined when a previous attempt consumed what cannot be replayed. */
  open(): Readable | Buffer | null | undefined;
  /** Whether a further attempt could still get the whole body. */
  readonly replayable: boolean;
  /** Settles when the downstream request body has been fully received (or failed). */
  readonly complete: Promise<void>;
  /** True when `complete` had settled before the request started (no body, or a buffered one). */
  readonly completeNow?: boolean;
}

const SETTLED = Promise.resolve();
const NO_BODY: RequestBody = { open: () => null, replayable: true, complete: SETTLED, completeNow: true };

/** A Buffer or no body: trivially replayable. */
function fixedBody(body: Buffer | null): RequestBody {
  return body === null ? NO_BODY : { open: () => body, replayable: true, complete: SETTLED, completeNow: true };
}

function completion(source: Readable): Promise<void> {
  if (source.readableEnded || source.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    source.once('end', resolve);
    source.once('error', () => resolve());
    source.once('close', resolve);
  });
}

/** A stream sent once, without keeping a copy (no retries possible). */
function oneShotBody(source: Readable): RequestBody {
  let opened = false;
  return {
    open: () => {
      if (opened) return undefined;
      opened = true;
      return source;
    },
    get replayable() {
      return !opened;
    },
    complete: completion(source),
  };
}

class ReplayableBody implements RequestBody {
  #chunks: Buffer[] = [];
  #size = 0;
  #overflowed = false;
  #ended = false;
  #error: Error | undefined;
  #current: Readable | undefined;
  #index = 0;
  #opened = 0;
  readonly complete: Promise<void>;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
  ) {
    this.complete = completion(source);
    source.pause();
    source.on('data', (chunk: Buffer | string) => this.#onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    source.once('end', () => {
      this.#ended = true;
      if (this.#current && this.#index >= this.#chunks.length) this.#current.push(null);
    });
    source.once('error', (err) => {
      this.#error = err;
      this.#current?.destroy(err);
    });
    source.pause();
  }

  get replayable(): boolean {
    return !this.#overflowed;
  }

  open(): Readable | undefined {
    if (this.#opened++ > 0 && this.#overflowed) return undefined;
    this.#detach();
    this.#index = 0;
    const consumer = new Readable({ read: () => this.#pump(consumer) });
    consumer.on('error', () => {});
    this.#current = consumer;
    return consumer;
  }

  #detach(): void {
    const previous = this.#current;
    this.#current = undefined;
    this.source.pause();
    if (previous && !previous.destroyed) previous.destroy();
  }

  #pump(consumer: Readable): void {
    if (consumer !== this.#current) return;
    while (this.#index < this.#chunks.length) {
      if (!consumer.push(this.#chunks[this.#index++])) return;
    }
    if (this.#error) consumer.destroy(this.#error);
    else if (this.#ended) consumer.push(null);
    else this.source.resume();
  }

  #onData(chunk: Buffer): void {
    if (!this.#overflowed) {
      this.#chunks.push(chunk);
      this.#size += chunk.length;
      if (this.#size > this.limit) {
        this.#overflowed = true;
        this.#chunks = [];
      }
      this.#index = this.#chunks.length;
    }
    const consumer = this.#current;
    if (!consumer || !consumer.push(chunk)) this.source.pause();
  }
}

export function requestBody(body: Readable | Buffer | null, retriesPossible: boolean, limit = DEFAULT_RETRY_BUFFER_LIMIT): RequestBody {
  if (body === null || Buffer.isBuffer(body)) return fixedBody(body);
  return retriesPossible ? new ReplayableBody(body, limit) : oneShotBody(body);
}
