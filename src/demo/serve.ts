/**
 * The little HTTP server under each demo service: node:http, one handler, replies as JSON, text
 * or HTML. A handler that throws answers 500 and is logged; it never takes the process down,
 * because a crashing demo pod would hide what the mesh is doing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/log.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void | Promise<void>;

export interface ServeOptions {
  /** Port to listen on; bookinfo's pods all use 9080. 0 picks a free one (tests). */
  port: number;
  /** Address to bind: the pod's own address in the local runtime. */
  host: string;
  log: Logger;
}

export interface DemoServer {
  readonly service: string;
  readonly port: number;
  readonly host: string;
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>;
}

export async function serve(service: string, handler: Handler, options: ServeOptions, onClose: () => void = () => {}): Promise<DemoServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    void (async () => {
      try {
        await handler(req, res, url);
      } catch (err) {
        options.log.error('request failed', { service, path: url.pathname, error: (err as Error).message });
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      }
    })();
  });
  // Keep-alive from the sidecar outlives a client's idle timeout only if ours is longer.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    service,
    port: address.port,
    host: options.host,
    close: () => new Promise<void>((resolve) => {
      server.close(() => {
        onClose();
        resolve();
      });
      server.closeIdleConnections();
    }),
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

export function sendText(res: http.ServerResponse, status: number, body: string): void {
  send(res, status, 'text/plain; charset=utf-8', body);
}

export function sendHtml(res: http.ServerResponse, status: number, body: string): void {
  send(res, status, 'text/html; charset=utf-8', body);
}

export function send(res: http.ServerResponse, status: number, contentType: string, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The numeric product id at the end of `/<prefix>/<id>`, or undefined if the path is not that. */
export function productId(path: string, prefix: string): number | 'invalid' | undefined {
  if (!path.startsWith(`${prefix}/`)) return undefined;
  const rest = path.slice(prefix.length + 1);
  return /^\d{1,9}$/.test(rest) ? Number(rest) : 'invalid';
}

/** A request body, refused past `limit` bytes. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
