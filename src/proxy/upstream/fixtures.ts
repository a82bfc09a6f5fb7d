/**
 * Test helpers for upstream/: real loopback servers that record what reaches them, a manual
 * clock, seeded randomness, and config builders. Used only by the tests beside this file.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import type { Cluster, ClusterLoadAssignment, Endpoint, OutlierDetection } from '../../proxy-config/index.js';
import type { Clock, SetTimer, Timer } from './clock.js';

import { seededRandom } from '../../lib/random.js';

export { seededRandom };

/** Time that only moves when a test says so; timers fire in order as it passes them. */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  readonly random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  now = (): number => this.#now;

  setTimer: SetTimer = (fn, ms): Timer => {
    const id = this.#seq++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { cancel: () => void this.#timers.delete(id) };
  };

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = end;
  }
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest, index: number) => void;

export interface TestUpstream {
  name: string;
  port: number;
  requests: RecordedRequest[];
  endpoint(weight?: number): Endpoint;
  close(): Promise<void>;
}

/** An HTTP/1.1 server on 127.0.0.1:0 that records each request; by default answers 200 `<name>`. */
export async function startUpstream(name: string, handler?: UpstreamHandler): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      requests.push(recorded);
      if (handler) handler(req, res, recorded, requests.length - 1);
      else res.end(name);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    name,
    port,
    requests,
    endpoint: (weight = 1) => endpoint(port, weight),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An h2c server whose handler gets the raw stream (for trailers and resets). */
export async function startH2Upstream(name: string, onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    // A stream the handler resets errors on this side too; that is the test's intent, not a fault.
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      requests.push({ method: String(headers[':method']), path: String(headers[':path']), headers, body: Buffer.concat(chunks).toString() });
      onStream(stream, headers);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    name,
    port,
    requests,
    endpoint: (weight = 1) => endpoint(port, weight),
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP server that echoes with a prefix, for connect(). */
export async function startEchoServer(prefix: string): Promise<{ port: number; endpoint(): Endpoint; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (d) => socket.write(`${prefix}${d.toString()}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    endpoint: () => endpoint(port),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A loopback port where connects hang: a child process listens with backlog 1 and never accepts
 * (its thread sleeps), two filler connections fill the accept queue, and the kernel then drops
 * further SYNs. Unroutable addresses cannot be used here: sandboxes may intercept them.
 */
export async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const script = `const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,60000);});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    await once(s, 'connect');
    fillers.push(s);
  }
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      if (child.pid !== undefined && child.exitCode === null) {
        process.kill(child.pid);
        await once(child, 'exit');
      }
    },
  };
}

/** A loopback port with nothing listening: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function endpoint(port: number, weight = 1, address = '127.0.0.1'): Endpoint {
  return { address, port, weight, labels: {}, tlsMode: 'disabled', healthy: true };
}

export function cluster(name: string, overrides: Partial<Cluster> = {}): Cluster {
  return {
    name,
    discovery: 'eds',
    protocol: 'http1',
    loadBalancer: { policy: 'ROUND_ROBIN' },
    connectTimeoutMs: 1000,
    circuitBreakers: { maxConnections: 2 ** 32 - 1, maxPendingRequests: 2 ** 32 - 1, maxRequests: 2 ** 32 - 1, maxRetries: 2 ** 32 - 1, maxRequestsPerConnection: 0 },
    ...overrides,
  };
}

/** Outlier detection on 5xx only (Istio's default count and interval), ejecting up to every host; tests override what they probe. */
export function outlierDetection(overrides: Partial<OutlierDetection> = {}): OutlierDetection {
  return {
    consecutive5xxErrors: 5,
    consecutiveGatewayErrors: 0,
    consecutiveLocalOriginFailures: 0,
    splitExternalLocalOriginErrors: false,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionPercent: 100,
    minHealthPercent: 0,
    ...overrides,
  };
}

export function assignment(clusterName: string, endpoints: Endpoint[]): ClusterLoadAssignment {
  return { cluster: clusterName, endpoints };
}

export async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString();
}
