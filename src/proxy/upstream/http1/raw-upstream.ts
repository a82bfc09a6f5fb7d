/**
 * Test helper for http1/: a loopback TCP server that reads HTTP/1.1 requests itself (head, then a
 * Content-Length or chunked body) and lets each test write whatever bytes it wants back, so that
 * responses node:http would never produce (bad framing, garbage, early closes) can be sent.
 */
import net from 'node:net';
import { once } from 'node:events';

export interface RawRequest {
  head: string;
  /** Lower-case header names; repeated ones joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
  /** Which connection (0, 1, ...) carried it. */
  connection: number;
}

export type RawHandler = (socket: net.Socket, req: RawRequest, index: number) => void;

export interface RawUpstream {
  port: number;
  requests: RawRequest[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections closed so far (by either side). */
  readonly closed: number;
  close(): Promise<void>;
}

function parseHeaders(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/** Reads one chunked body from `buf`; returns [body, bytes used] or undefined if incomplete. */
function readChunked(buf: Buffer): [Buffer, number] | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol);
      return end < 0 ? undefined : [Buffer.concat(parts), end + 4];
    }
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

export async function startRawUpstream(handler: RawHandler): Promise<RawUpstream> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let closed = 0;
  const server = net.createServer((socket) => {
    const connection = connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      closed++;
      sockets.delete(socket);
    });
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const headers = parseHeaders(head);
        const rest = buf.subarray(end + 4);
        let body: Buffer;
        let used: number;
        if (headers['transfer-encoding'] === 'chunked') {
          const chunked = readChunked(rest);
          if (!chunked) return;
          [body, used] = chunked;
        } else {
          const length = Number(headers['content-length'] ?? 0);
          if (rest.length < length) return;
          body = rest.subarray(0, length);
          used = length;
        }
        buf = rest.subarray(used);
        const req = { head, headers, body: Buffer.from(body), connection };
        requests.push(req);
        handler(socket, req, requests.length - 1);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    get connections() {
      return connections;
    },
    get closed() {
      return closed;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
