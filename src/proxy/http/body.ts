/**
 * Request bodies that may be sent more than once (retries, mirrors): read into memory up to a
 * limit, as Envoy buffers for retries. Past the limit the bytes read so far and the rest of the
 * stream are sent once, as one stream.
 */
import { Readable } from 'node:stream';
import { DownstreamGoneError } from '../errors.js';

export function readReplayableBody(req: Readable, limit: number): Promise<Buffer | Readable> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(Readable.from(prefixed(chunks, req), { objectMode: false }));
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
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

async function* prefixed(head: Buffer[], rest: Readable): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of rest) yield chunk as Buffer;
}
