/**
 * The listener filters' job (Envoy's tls_inspector and http_inspector): read the first bytes of a
 * connection to learn whether it is TLS (and its SNI and ALPN) or cleartext (and whether it
 * starts with the HTTP/2 preface), then put the bytes back so whoever serves the connection
 * reads them from the start.
 */
import type { Socket } from 'node:net';
import { parseClientHello, type ClientHelloResult } from './client-hello.js';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Inspection {
  transport: 'tls' | 'raw_buffer';
  serverName: string | undefined;
  alpn: string[] | undefined;
  /** Cleartext that starts with the HTTP/2 connection preface (h2c with prior knowledge). */
  h2Preface: boolean;
  /** Nothing arrived before the timeout (a server-first protocol, or an idle client). */
  timedOut: boolean;
  /** The peer closed or sent bytes that cannot be TLS. */
  malformed: boolean;
}

type Verdict = { done: false } | { done: true; inspection: Omit<Inspection, 'timedOut'> };

/** Decides from the bytes so far; asks for more while they are ambiguous. */
export function inspectBytes(buf: Buffer): Verdict {
  if (buf.length === 0) return { done: false };
  if (buf[0] === 0x16) {
    const hello: ClientHelloResult = parseClientHello(buf);
    if (hello.kind === 'need-more') return { done: false };
    if (hello.kind === 'hello') return { done: true, inspection: { transport: 'tls', serverName: hello.serverName, alpn: hello.alpn, h2Preface: false, malformed: false } };
    return { done: true, inspection: { transport: 'tls', serverName: undefined, alpn: undefined, h2Preface: false, malformed: true } };
  }
  const n = Math.min(buf.length, H2_PREFACE.length);
  const prefixMatches = buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
  if (prefixMatches && n < H2_PREFACE.length) return { done: false };
  return { done: true, inspection: { transport: 'raw_buffer', serverName: undefined, alpn: undefined, h2Preface: prefixMatches, malformed: false } };
}

/**
 * Reads from `socket` until the verdict is clear or `timeoutMs` passes, then pauses it with the
 * bytes read put back (so the next reader, an HTTP parser, TLS or a TCP pipe, starts at byte 0).
 */
export function inspectConnection(socket: Socket, timeoutMs: number): Promise<Inspection> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (inspection: Inspection) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      if (size > 0) socket.unshift(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
      resolve(inspection);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const verdict = inspectBytes(chunks.length === 1 ? chunk : Buffer.concat(chunks, size));
      if (verdict.done) finish({ ...verdict.inspection, timedOut: false });
    };
    const onEnd = () => finish({ transport: 'raw_buffer', serverName: undefined, alpn: undefined, h2Preface: false, timedOut: false, malformed: true });
    const timer = setTimeout(() => finish({ transport: 'raw_buffer', serverName: undefined, alpn: undefined, h2Preface: false, timedOut: true, malformed: false }), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
}
