/**
 * A minimal ASN.1 DER writer and reader, enough for PKCS#10 requests and X.509 certificates.
 * The proxy builds its CSR with it (an X.509 library would cost the sidecar megabytes of idle
 * memory) and the CA reads CSRs and issuer names with it; signing and verifying are node:crypto's.
 */

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export const seq = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, Buffer.concat(items));
export const set = (...items: Uint8Array[]): Buffer => tlv(TAG.SET, Buffer.concat(items));
/** Context-specific `[n]`: constructed (EXPLICIT, or IMPLICIT of a constructed type) or primitive. */
export const ctx = (n: number, content: Uint8Array, constructed = true): Buffer => tlv((constructed ? 0xa0 : 0x80) | n, content);
export const nul = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const bool = (v: boolean): Buffer => tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0]));
export const octets = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
/** A BIT STRING of whole bytes (signatures, keys). */
export const bits = (b: Uint8Array): Buffer => tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), b]));
export const utf8 = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const ia5 = (s: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(s, 'ascii'));

/** A non-negative INTEGER from a number or big-endian bytes (a leading zero added where the sign bit is set). */
export function int(value: number | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    const out: number[] = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
    bytes = Buffer.from(out.length > 0 ? out : [0]);
  } else {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = Buffer.from(value.subarray(start));
  }
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.INTEGER, bytes);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * (parts[0] ?? 0) + (parts[1] ?? 0)];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5), whole seconds. */
export function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return date.getUTCFullYear() < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(iso.slice(2), 'ascii')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(iso, 'ascii'));
}

// ---------------------------------------------------------------- reading

export interface Node {
  tag: number;
  /** The whole encoding, tag and length included (what a signature covers). */
  raw: Buffer;
  content: Buffer;
}

export class DerError extends Error {}

/** Reads one element at `offset`; throws DerError on truncation or a length that is not DER. */
export function read(buf: Buffer, offset = 0): Node {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let length = buf[offset + 1] as number;
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || offset + 2 + count > buf.length) throw new DerError('bad DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    header += count;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError('truncated DER element');
  return { tag, raw: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

/** The elements inside a constructed element, in order. */
export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const child = read(node.content, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got ${node ? `0x${node.tag.toString(16)}` : 'nothing'}`);
  return node;
}

export function readOid(node: Node): string {
  const b = expect(node, TAG.OID, 'OID').content;
  if (b.length === 0) throw new DerError('empty OID');
  const parts = [Math.floor((b[0] as number) / 40), (b[0] as number) % 40];
  let value = 0;
  for (const byte of b.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** PEM blocks of one label (`CERTIFICATE`, `CERTIFICATE REQUEST`), decoded, in order. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
