/**
 * For the demo's tests: demo services as real `weft demo` processes on loopback, and a recording
 * HTTP proxy that stands where a sidecar's outbound listener stands in plain network mode. The
 * proxy routes by service name like a mesh would (reviews by `end-user`, as
 * virtual-service-reviews-test-v2.yaml does) and can abort or delay ratings for one user, as the
 * fault injection samples do, so the tests exercise the demo against the behaviour it must survive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { repoPath } from '../lib/repo.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface DemoProcess {
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `weft demo ARGS... --port 0 --bind 127.0.0.1` with `env` added; resolves when it is ready. */
export function startDemo(args: string[], env: Record<string, string> = {}, started: DemoProcess[] = []): Promise<DemoProcess> {
  const clean = { ...process.env };
  for (const name of ['HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) delete clean[name];
  const child = spawn(process.execPath, [MAIN, 'demo', ...args, '--port', '0', '--bind', '127.0.0.1'], {
    cwd: repoPath(),
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<DemoProcess>((resolve, reject) => {
    const p: DemoProcess = { port: 0, child, output: () => out, exited };
    started.push(p);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^weft demo ready (\{.*\})$/m.exec(out);
      if (match?.[1] && p.port === 0) {
        p.port = (JSON.parse(match[1]) as { ports: { http: number } }).ports.http;
        resolve(p);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`weft demo ${args.join(' ')} exited (${code}) before it was ready:\n${out}`)));
  });
}

export async function stopAll(processes: DemoProcess[]): Promise<void> {
  await Promise.all(processes.map(async (p) => {
    if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined) process.kill(p.child.pid, 'SIGKILL');
    await p.exited;
  }));
}

export interface Recorded {
  /** The request target as the proxy received it (absolute-URI form from a proxied client). */
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface RecordingProxy {
  port: number;
  requests: Recorded[];
  /** Service name -> loopback port; reviews goes to `reviews-jason` for end-user jason when set. */
  routes: Map<string, number>;
  faults: { abortRatingsFor?: string; delayRatingsMsFor?: { user: string; ms: number } };
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const requests: Recorded[] = [];
  const routes = new Map<string, number>();
  const faults: RecordingProxy['faults'] = {};
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: { ...req.headers } });
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('not an absolute-URI request');
      return;
    }
    const user = req.headers['end-user'];
    const service = target.hostname === 'reviews' && user === 'jason' && routes.has('reviews-jason') ? 'reviews-jason' : target.hostname;
    const port = routes.get(service);
    if (port === undefined) {
      res.writeHead(404).end('no route');
      return;
    }
    if (target.hostname === 'ratings' && faults.abortRatingsFor !== undefined && user === faults.abortRatingsFor) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('fault filter abort');
      return;
    }
    const forward = () => {
      const upstream = http.request({ host: '127.0.0.1', port, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    const delay = faults.delayRatingsMsFor;
    if (target.hostname === 'ratings' && delay && user === delay.user) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward();
      }, delay.ms);
      timers.add(timer);
    } else {
      forward();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    routes,
    faults,
    close: () => new Promise<void>((resolve) => {
      for (const t of timers) clearTimeout(t);
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** A stand-in for a broken reviews: answers `status`, or never answers when `status` is 'hang'. */
export async function startBrokenService(): Promise<{ port: number; calls: Recorded[]; mode: { status: number | 'hang' }; close(): Promise<void> }> {
  const calls: Recorded[] = [];
  const mode: { status: number | 'hang' } = { status: 503 };
  const server = http.createServer((req, res) => {
    calls.push({ url: req.url ?? '', headers: { ...req.headers } });
    if (mode.status !== 'hang') res.writeHead(mode.status, { 'content-type': 'text/plain' }).end('upstream failure');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    mode,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection, nothing pooled between tests. */
export function request(port: number, path: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {}): Promise<Fetched> {
  return new Promise<Fetched>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
