/**
 * Reads the server name (SNI) and ALPN list from a TLS ClientHello without terminating TLS, as
 * Envoy's tls_inspector does, so a gateway can pass TLS through by SNI. Only the bytes the client
 * sent first are read; nothing is decrypted. The handshake message may span several records.
 */

export type ClientHelloResult =
  | { kind: 'hello'; serverName?: string; alpn: string[] }
  | { kind: 'need-more' }
  | { kind: 'not-tls' }
  | { kind: 'malformed'; reason: string };

/** More than this and the peer is not sending a ClientHello we are willing to wait for. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;

export function parseClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length === 0) return { kind: 'need-more' };
  if (buf[0] !== HANDSHAKE) return { kind: 'not-tls' };
  // Gather the handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let offset = 0;
  let handshakeLen = -1;
  let gathered = 0;
  while (handshakeLen < 0 || gathered < handshakeLen + 4) {
    if (buf.length < offset + 5) return more(buf);
    if (buf[offset] !== HANDSHAKE) return { kind: 'malformed', reason: 'handshake interrupted by another record type' };
    if (buf[offset + 1] !== 3) return { kind: 'malformed', reason: 'not a TLS record version' };
    const recordLen = buf.readUInt16BE(offset + 3);
    if (recordLen === 0 || recordLen > 16384 + 2048) return { kind: 'malformed', reason: 'bad record length' };
    if (buf.length < offset + 5 + recordLen) return more(buf);
    parts.push(buf.subarray(offset + 5, offset + 5 + recordLen));
    gathered += recordLen;
    offset += 5 + recordLen;
    if (handshakeLen < 0) {
      const head = Buffer.concat(parts);
      if (head.length < 4) continue;
      if (head[0] !== CLIENT_HELLO) return { kind: 'malformed', reason: 'first handshake message is not a ClientHello' };
      handshakeLen = head.readUIntBE(1, 3);
    }
  }
  const body = Buffer.concat(parts).subarray(4, 4 + handshakeLen);
  try {
    return readHello(body);
  } catch {
    return { kind: 'malformed', reason: 'truncated ClientHello' };
  }
}

function more(buf: Buffer): ClientHelloResult {
  return buf.length >= MAX_CLIENT_HELLO_BYTES ? { kind: 'malformed', reason: 'ClientHello too large' } : { kind: 'need-more' };
}

/** A bounds-checked cursor: any read past the end throws, which the caller reports as malformed. */
class Cursor {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.#pos >= this.buf.length;
  }
  skip(n: number): void {
    if (this.#pos + n > this.buf.length) throw new RangeError('truncated');
    this.#pos += n;
  }
  u8(): number {
    this.skip(1);
    return this.buf[this.#pos - 1] ?? 0;
  }
  u16(): number {
    this.skip(2);
    return this.buf.readUInt16BE(this.#pos - 2);
  }
  bytes(n: number): Buffer {
    this.skip(n);
    return this.buf.subarray(this.#pos - n, this.#pos);
  }
}

function readHello(body: Buffer): ClientHelloResult {
  const c = new Cursor(body);
  c.skip(2 + 32); // client_version, random
  c.skip(c.u8()); // session_id
  c.skip(c.u16()); // cipher_suites
  c.skip(c.u8()); // compression_methods
  const result: { kind: 'hello'; serverName?: string; alpn: string[] } = { kind: 'hello', alpn: [] };
  if (c.done) return result; // no extensions at all
  const ext = new Cursor(c.bytes(c.u16()));
  while (!ext.done) {
    const type = ext.u16();
    const data = new Cursor(ext.bytes(ext.u16()));
    if (type === 0x0000) {
      const list = new Cursor(data.bytes(data.u16()));
      while (!list.done) {
        const nameType = list.u8();
        const name = list.bytes(list.u16());
        if (nameType === 0 && result.serverName === undefined) result.serverName = name.toString('latin1').toLowerCase();
      }
    } else if (type === 0x0010) {
      const list = new Cursor(data.bytes(data.u16()));
      while (!list.done) result.alpn.push(list.bytes(list.u8()).toString('latin1'));
    }
  }
  return result;
}
