/**
 * includeRequestBodyInCheck: the downstream body buffered (up to maxRequestBytes) before the
 * check, as Envoy's ext_authz `with_request_body` does, and then sent upstream from the buffer:
 * the stream has been read, so the forward step takes the body from here (`checkedBody`).
 */
import type { Readable } from 'node:stream';
import { bufferUpTo, followedBy } from '../http/body.js';

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

export async function readBodyForCheck(request: Readable, maxBytes: number): Promise<BufferedBody> {
  const { bytes, over } = await bufferUpTo(request, maxBytes);
  const result: BufferedBody = over
    ? { head: bytes.subarray(0, maxBytes), partial: true, upstream: followedBy(bytes, request) }
    : { head: bytes, partial: false, upstream: bytes };
  checked.set(request, result.upstream);
  return result;
}
