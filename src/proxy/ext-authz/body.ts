/**
 * includeRequestBodyInCheck: the downstream body buffered (up to maxRequestBytes) before the
 * check, as Envoy's ext_authz `with_request_body` does, and then sent upstream from the buffer:
 * the stream has been read, so the forward step takes the body from here (`checkedBody`).
 */
import { Readable } from 'node:stream';
import { DownstreamGoneError } from '../errors.js';

export interface BufferedBody {
  /** What the check carries: the whole body, or its first maxRequestBytes. */
  head: Buffer;
  /** The body was longer than maxRequestBytes. */
  partial: boolean;
  /** What goes upstream: the whole body, or the bytes read so far followed by the rest of the stream. */
  upstream: Buffer | Readable;
}

/** Bodies read for a check, by request, for the forward step. */
const checked = new WeakMap<object, Buffer | Readable>();

export function checkedBody(request: object): Buffer | Readable | undefined {
  return checked.get(request);
}

export function readBodyForCheck(request: Readable, maxBytes: number): Promise<BufferedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onGone);
      request.off('close', onGone);
    };
    const done = (result: BufferedBody) => {
      cleanup();
      checked.set(request, result.upstream);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= maxBytes) return;
      request.pause();
      const all = Buffer.concat(chunks, size);
      done({ head: all.subarray(0, maxBytes), partial: true, upstream: Readable.from(prefixed(all, request), { objectMode: false }) });
    };
    const onEnd = () => {
      const all = Buffer.concat(chunks, size);
      done({ head: all, partial: false, upstream: all });
    };
    const onGone = () => {
      cleanup();
      reject(new DownstreamGoneError());
    };
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onGone);
    request.once('close', onGone);
  });
}

async function* prefixed(head: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  yield head;
  for await (const chunk of rest) yield chunk as Buffer;
}
