/**
 * Istio's TCP metadata exchange (istio/proxy filters/network/metadata_exchange): on an mTLS
 * connection whose ALPN is `istio-peer-exchange`, each side first writes one frame, a 4-byte magic
 * 0x3D230467 and a 4-byte length (both big-endian), then a `google.protobuf.Any` holding a Struct
 * with `x-envoy-peer-metadata` (the workload Struct the HTTP exchange sends) and
 * `x-envoy-peer-metadata-id`. Each side reads and strips the other's frame before relaying, so a
 * TCP server's reporter knows its client's workload as an HTTP one does, and apps never see it.
 * A peer that sends no frame (bad magic, oversized, silent) is relayed without metadata.
 */
import type { Duplex } from 'node:stream';
import type { ProxyNode } from '../../proxy-config/index.js';
import { PEER_METADATA, PEER_METADATA_ID, decodePeerMetadata, lengthDelimited, localPeerHeaders, type PeerMetadata } from '../http/peer-metadata.js';

export const PEER_EXCHANGE_ALPN = 'istio-peer-exchange';
export const EXCHANGE_MAGIC = 0x3d230467;
/** Frames larger than this are not metadata (Istio bounds them too). */
export const MAX_FRAME_BYTES = 64 * 1024;
const HEADER_BYTES = 8;
const STRUCT_TYPE_URL = 'type.googleapis.com/google.protobuf.Struct';

const field = lengthDelimited;

/** Struct entry { key = 1, Value value = 2 }; Value: string_value = 3, struct_value = 5. */
function entry(key: string, valueField: number, body: Buffer): Buffer {
  return field(1, Buffer.concat([field(1, Buffer.from(key, 'utf8')), field(2, field(valueField, body))]));
}

const frames = new WeakMap<ProxyNode, Buffer>();

/** This proxy's frame, computed once per node. */
export function localExchangeFrame(node: ProxyNode): Buffer {
  let frame = frames.get(node);
  if (!frame) {
    const own = localPeerHeaders(node);
    // Deterministic serialization: keys sorted ("x-envoy-peer-metadata" < "...-id").
    const struct = Buffer.concat([entry(PEER_METADATA, 5, Buffer.from(own.value, 'base64')), entry(PEER_METADATA_ID, 3, Buffer.from(own.id, 'utf8'))]);
    const any = Buffer.concat([field(1, Buffer.from(STRUCT_TYPE_URL, 'utf8')), field(2, struct)]);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32BE(EXCHANGE_MAGIC, 0);
    header.writeUInt32BE(any.length, 4);
    frame = Buffer.concat([header, any]);
    frames.set(node, frame);
  }
  return frame;
}

/** Length-delimited fields of one message, by number (other wire types skipped); throws on bad bytes. */
function fields(buf: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let pos = 0;
  const read = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= buf.length || shift > 28) throw new Error('bad varint');
      const b = buf[pos++] ?? 0;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
  };
  while (pos < buf.length) {
    const tag = read();
    const wire = tag & 7;
    if (wire === 0) read();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = read();
      if (pos + len > buf.length) throw new Error('truncated');
      out.push([tag >>> 3, buf.subarray(pos, pos + len)]);
      pos += len;
    } else throw new Error(`wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated');
  }
  return out;
}

/** The peer an `Any` payload describes; undefined when it is not Istio's exchange Struct. */
export function decodeExchangePayload(payload: Buffer): PeerMetadata | undefined {
  try {
    const any = fields(payload);
    const struct = any.find(([n]) => n === 2)?.[1];
    if (!struct) return undefined;
    for (const [n, e] of fields(struct)) {
      if (n !== 1) continue;
      const parts = fields(e);
      if (parts.find(([f]) => f === 1)?.[1].toString('utf8') !== PEER_METADATA) continue;
      const value = parts.find(([f]) => f === 2)?.[1];
      const inner = value ? fields(value).find(([f]) => f === 5)?.[1] : undefined;
      // Through the HTTP exchange's decoder: one object per distinct peer, as metrics key on it.
      return inner ? decodePeerMetadata(inner.toString('base64')) : undefined;
    }
  } catch {
    // Garbage is no metadata, as in Envoy.
  }
  return undefined;
}

/** What reading the peer's frame came to: `rest` is what followed it, to be relayed. */
export type FrameRead =
  | { kind: 'need-more' }
  | { kind: 'frame'; peer: PeerMetadata | undefined; rest: Buffer }
  | { kind: 'none'; rest: Buffer };

/** Parses the start of a stream: a frame, not one (all bytes are the app's), or too few bytes yet. */
export function readFrame(buf: Buffer): FrameRead {
  const magicBytes = Math.min(buf.length, 4);
  const magic = Buffer.alloc(4);
  magic.writeUInt32BE(EXCHANGE_MAGIC, 0);
  if (!buf.subarray(0, magicBytes).equals(magic.subarray(0, magicBytes))) return { kind: 'none', rest: buf };
  if (buf.length < HEADER_BYTES) return { kind: 'need-more' };
  const size = buf.readUInt32BE(4);
  if (size > MAX_FRAME_BYTES) return { kind: 'none', rest: buf };
  if (buf.length < HEADER_BYTES + size) return { kind: 'need-more' };
  return { kind: 'frame', peer: decodeExchangePayload(buf.subarray(HEADER_BYTES, HEADER_BYTES + size)), rest: buf.subarray(HEADER_BYTES + size) };
}

/**
 * Reads the peer's frame off `socket`, leaving what followed it unread on the socket (paused),
 * and writes ours: the client first, the server only to a client that sent a frame, so a client
 * that merely offered the ALPN never sees bytes its app did not send. Gives up after `timeoutMs`
 * (the peer sent no frame) and never rejects.
 */
export function exchangeMetadata(socket: Duplex, node: ProxyNode, side: 'client' | 'server', timeoutMs: number): Promise<PeerMetadata | undefined> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (peer: PeerMetadata | undefined, rest: Buffer, framed = false): void => {
      if (framed && side === 'server' && !socket.destroyed) socket.write(localExchangeFrame(node));
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      resolve(peer);
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const read = readFrame(buf);
      if (read.kind === 'frame') finish(read.peer, read.rest, true);
      else if (read.kind === 'none') finish(undefined, read.rest);
    };
    const onClose = (): void => finish(undefined, buf);
    const timer = setTimeout(() => finish(undefined, buf), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
    if (side === 'client' && !socket.destroyed) socket.write(localExchangeFrame(node));
  });
}
