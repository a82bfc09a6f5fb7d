/**
 * Builders for the proxy's tests, in Linkerd's integration style: real upstream servers that
 * record what they receive, a real proxy on port 0 with a config built from a few lines, and a
 * client that sends exactly the bytes a test means. Nothing here is a mock. Config builders are
 * in test-config.ts.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse, type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { ProxyConfig } from '../proxy-config/index.js';
import { Proxy, type ProxyOptions } from './proxy.js';
import { DEFAULT_BOOTSTRAP, type Bootstrap } from './bootstrap.js';
import { Upstreams } from './upstream/index.js';

// ---------------------------------------------------------------- upstream servers

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestUpstream {
  name: string;
  port: number;
  received: Received[];
  /** Replace how it answers (default: 200 with its name as the body). */
  handle(fn: (req: IncomingMessage, res: ServerResponse, body: string) => void): void;
  close(): Promise<void>;
}

export async function startUpstream(name: string): Promise<TestUpstream> {
  const received: Received[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
    res.end(name);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    received,
    handle: (fn) => (handler = fn),
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------- the proxy

export interface TestProxy {
  proxy: Proxy;
  /** The bound port for a key of Proxy.ports(): `gateway:80`, `outbound`, `admin`... */
  port(key: string): number;
  close(): Promise<void>;
}

export async function startProxy(config: ProxyConfig, opts: { bootstrap?: Partial<Bootstrap>; proxy?: Partial<ProxyOptions> } = {}): Promise<TestProxy> {
  const portMap = new Map<number, number>();
  for (const l of config.listeners) if (l.direction !== 'outbound') portMap.set(l.port, 0);
  const bootstrap: Bootstrap = {
    ...DEFAULT_BOOTSTRAP,
    bindAddress: '127.0.0.1',
    ports: { outbound: 0, inbound: 0, admin: 0, health: 0 },
    portMap,
    drainTimeoutMs: 2000,
    ...opts.bootstrap,
  };
  const proxy = new Proxy({ bootstrap, upstreams: new Upstreams(), ...opts.proxy });
  await proxy.start();
  const result = await proxy.applyConfig(config);
  if (!result.accepted) throw new Error(`test config rejected: ${result.errors.join('; ')}`);
  return {
    proxy,
    port: (key) => {
      const p = proxy.ports()[key];
      if (p === undefined) throw new Error(`no port ${key}: ${JSON.stringify(proxy.ports())}`);
      return p;
    },
    close: () => proxy.drain(0),
  };
}

// ---------------------------------------------------------------- the client

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection; `path` may be absolute-form for the outbound proxy port. */
export function send(port: number, opts: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: { host: opts.host ?? 'example.com', ...opts.headers }, agent: opts.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Writes raw bytes and collects everything the proxy answers until it closes (or `waitMs`). */
export function sendRaw(port: number, bytes: string | Buffer, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let out = '';
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/**
 * A loopback port that was free a moment ago, for listeners a test cannot bind on port 0 itself
 * (the proxy's config names its ports before it starts, and other processes are told them).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- the proxy as a process

export interface ProxyProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** The ports its ready line reports (`gateway:80`, `admin`, `prometheus`, ...). */
  ports: Record<string, number>;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/**
 * Runs `node <nodeArgs> <entry> proxy <args>` (the CLI's main.js or the bundle) and waits for its
 * `weft proxy ready {...}` line; rejects with its stderr if it exits first. Killed after the test.
 */
export function spawnProxy(t: { after(fn: () => void): void }, entry: string, args: readonly string[], nodeArgs: readonly string[] = []): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [...nodeArgs, entry, 'proxy', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /weft proxy ready (\{.*\})/.exec(out);
      if (m?.[1]) resolve({ child, ports: (JSON.parse(m[1]) as { ports: Record<string, number> }).ports, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`proxy exited ${code} before it was ready: ${err}`)));
  });
}

export { seededRandom } from '../lib/random.js';
