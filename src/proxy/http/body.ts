/**
 * Request bodies that may be sent more than once (retries, mirrors): read into memory up to a
 * limit, as Envoy buffers for retries. Past the limit the bytes read so far and the rest of the
 * stream are sent once, as one stream. The buffering itself (`bufferUpTo`) also serves ext_authz,
 * which reads the body up to maxRequestBytes before its check.
 */
import { Readable } from 'node:stream';
import { DownstreamGoneError } from '../errors.js';

export interface Buffered {
  /** Everything read: the whole body, or (when `over`) the first chunks up to just past the limit. */
  bytes: Buffer;
  /** The body was longer than the limit; the stream is paused with the rest unread. */
  over: boolean;
}

/** Reads `req` until it ends or passes `limit` bytes; rejects with DownstreamGoneError if the client goes first. */
export function bufferUpTo(req: Readable, limit: number): Promise<Buffered> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const joined = () => (chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve({ bytes: joined(), over: true });
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ bytes: joined(), over: false });
    };
    const onGone = () => {
      cleanup();
      reject(new DownstreamGoneError());
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onGone);
  });
}

/** The bytes already read followed by the rest of the (paused) stream, as one stream. */
export function followedBy(head: Buffer, rest: Readable): Readable {
  return Readable.from(prefixed(head, rest), { objectMode: false });
}

export async function readReplayableBody(req: Readable, limit: number): Promise<Buffer | Readable> {
  const { bytes, over } = await bufferUpTo(req, limit);
  return over ? followedBy(bytes, req) : bytes;
}

async function* prefixed(head: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  yield head;
  for await (const chunk of rest) yield chunk as Buffer;
}
