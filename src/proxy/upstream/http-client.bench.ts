/**
 * Micro benchmark behind the choice of HTTP/1.1 client for the upstream pool: node:http with a
 * keep-alive Agent, undici's Pool.request(), undici Clients driven through dispatch() with a
 * small handler (what pool-h1.ts did before it had its own client on Node's parser), a minimal
 * client (the floor), and Upstreams.send() itself (cluster, balancer, breakers, retry
 * bookkeeping and today's pool-h1), reading the body as a stream or taking it whole.
 * The upstream runs in a child process so that client and server do not share one event loop.
 * Not a test; run it by hand (WEFT_BENCH_CLIENTS=a,b picks clients, WEFT_BENCH_ROUNDS measured rounds):
 *
 *   node .build/<dir>/src/proxy/upstream/http-client.bench.js [requests] [concurrency]
 */
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Client, Pool, type Dispatcher } from 'undici';
import { Upstreams } from './upstreams.js';
import { assignment, cluster, endpoint } from './fixtures.js';
import { responseParser, type ResponseParser } from './http1/parser.js';

const SERVER = `
const http = require('node:http');
const body = Buffer.alloc(512, 'x');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

type Send = () => Promise<number>;

function drain(body: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    body.on('data', (chunk: Buffer) => (n += chunk.length));
    body.on('end', () => resolve(n));
    body.on('error', reject);
  });
}

function nodeHttp(port: number, concurrency: number): { send: Send; close: () => Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const send: Send = () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/x', method: 'GET', agent, headers: { 'x-a': '1' } }, (res) => {
        drain(res).then(resolve, reject);
      });
      req.on('error', reject);
      req.end();
    });
  return { send, close: async () => agent.destroy() };
}

function undiciPool(port: number, concurrency: number): { send: Send; close: () => Promise<void> } {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
  const send: Send = async () => {
    const res = await pool.request({ path: '/x', method: 'GET', headers: { 'x-a': '1' } });
    return drain(res.body);
  };
  return { send, close: () => pool.close() };
}

/** One Client per connection, each running one request at a time, as the Weft pool does. */
function undiciDispatch(port: number, concurrency: number): { send: Send; close: () => Promise<void> } {
  const idle: Client[] = [];
  const all: Client[] = [];
  for (let i = 0; i < concurrency; i++) {
    const c = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
    idle.push(c);
    all.push(c);
  }
  const send: Send = () =>
    new Promise((resolve, reject) => {
      const client = idle.pop();
      if (!client) return reject(new Error('no idle client'));
      let body: Readable | undefined;
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart() {},
        onResponseStart(controller, _status) {
          body = new Readable({ read: () => controller.resume() });
          drain(body).then((n) => {
            resolve(n);
          }, reject);
        },
        onResponseData(controller, chunk) {
          if (body && !body.push(chunk)) controller.pause();
        },
        onResponseEnd() {
          idle.push(client);
          body?.push(null);
        },
        onResponseError(_c, err) {
          idle.push(client);
          if (body) body.destroy(err);
          else reject(err);
        },
      };
      client.dispatch({ path: '/x', method: 'GET', headers: { 'x-a': '1' } }, handler);
    });
  return { send, close: async () => void (await Promise.all(all.map((c) => c.close()))) };
}

/** Istio's default retry policy, as every route gets it. */
const ISTIO_RETRY = { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [], ignorePreviousHosts: true, backoffBaseMs: 25 };

/** Upstreams.send() with Istio's default retry policy, the body read as a stream. */
function weftUpstreams(port: number): { send: Send; close: () => Promise<void> } {
  const upstreams = new Upstreams();
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'LEAST_REQUEST' } })], [assignment('c', [endpoint(port)])]);
  const send: Send = async () => {
    const res = await upstreams.send('c', { method: 'GET', path: '/x', headers: { host: 'svc', 'x-a': '1' }, body: null }, { retry: ISTIO_RETRY });
    return drain(res.body);
  };
  return { send, close: () => upstreams.close() };
}

/** The same, taking a body that came whole as `completeBody` (what the proxy's relay does). */
function weftUpstreamsWhole(port: number): { send: Send; close: () => Promise<void> } {
  const upstreams = new Upstreams();
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'LEAST_REQUEST' } })], [assignment('c', [endpoint(port)])]);
  const send: Send = async () => {
    const res = await upstreams.send('c', { method: 'GET', path: '/x', headers: { host: 'svc', 'x-a': '1' }, body: null }, { retry: ISTIO_RETRY });
    const whole = res.completeBody;
    return whole !== undefined ? whole.length : drain(res.body);
  };
  return { send, close: () => upstreams.close() };
}

/**
 * The floor: one socket per concurrent request, Node's parser on it, a fixed request head, the
 * body collected; no pool, balancer, retries, header maps or streams. What Weft's client costs
 * is its difference to this.
 */
async function minimalClient(port: number, concurrency: number): Promise<{ send: Send; close: () => Promise<void> }> {
  const idle: { socket: net.Socket; parser: ResponseParser; done?: (n: number) => void }[] = [];
  for (let i = 0; i < concurrency; i++) {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    await once(socket, 'connect');
    let length = 0;
    const conn: { socket: net.Socket; parser: ResponseParser; done?: (n: number) => void } = {
      socket,
      parser: responseParser({
        onHeaders: () => {},
        onHeadersComplete: () => 0,
        onBody: (chunk) => (length += chunk.length),
        onMessageComplete: () => {
          const done = conn.done;
          conn.done = undefined;
          idle.push(conn);
          done?.(length);
          length = 0;
        },
      }),
    };
    socket.on('data', (chunk: Buffer) => conn.parser.execute(chunk));
    idle.push(conn);
  }
  const head = 'GET /x HTTP/1.1\r\nhost: svc\r\nx-a: 1\r\nconnection: keep-alive\r\n\r\n';
  const send: Send = () =>
    new Promise((resolve, reject) => {
      const conn = idle.pop();
      if (!conn) return reject(new Error('no idle connection'));
      conn.done = resolve;
      conn.socket.write(head, 'latin1');
    });
  return { send, close: async () => idle.forEach((c) => c.socket.destroy()) };
}

async function run(name: string, send: Send, total: number, concurrency: number): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      const t0 = process.hrtime.bigint();
      await send();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.floor((latencies.length - 1) * p)] ?? 0).toFixed(3);
  // CPU per request (user + system) is steadier than req/s on a shared machine.
  const cpuUs = (used.user + used.system) / total;
  console.log(`${name.padEnd(24)} ${(total / seconds).toFixed(0).padStart(7)} req/s  ${cpuUs.toFixed(1).padStart(5)} us CPU/req  p50 ${pct(0.5)} ms  p99 ${pct(0.99)} ms`);
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 20000);
  const concurrency = Number(process.argv[3] ?? 16);
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    type Make = (port: number, concurrency: number) => { send: Send; close: () => Promise<void> } | Promise<{ send: Send; close: () => Promise<void> }>;
    const all: Record<string, Make> = { 'node:http Agent': nodeHttp, 'undici Pool': undiciPool, 'undici dispatch': undiciDispatch, 'minimal client': minimalClient, 'Upstreams.send': weftUpstreams, 'Upstreams.send whole': weftUpstreamsWhole };
    // WEFT_BENCH_CLIENTS=name,name runs some of them.
    const wanted = process.env.WEFT_BENCH_CLIENTS?.split(',');
    const clients = Object.fromEntries(Object.entries(all).filter(([name]) => !wanted || wanted.includes(name)));
    const rounds = Number(process.env.WEFT_BENCH_ROUNDS ?? 1);
    for (let round = 0; round <= rounds; round++) {
      console.log(round === 0 ? `warm-up, ${total} requests, concurrency ${concurrency}` : 'measured');
      for (const [name, make] of Object.entries(clients)) {
        const c = await make(port, concurrency);
        await run(name, c.send, total, concurrency);
        await c.close();
      }
    }
  } finally {
    if (child.pid !== undefined) process.kill(child.pid);
  }
}

await main();
