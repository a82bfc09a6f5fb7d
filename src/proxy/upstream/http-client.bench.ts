/**
 * Micro benchmark behind the choice of HTTP/1.1 client for the upstream pool: node:http with a
 * keep-alive Agent, undici's Pool.request(), undici Clients driven through dispatch() with a
 * small handler (what pool-h1.ts did before it had its own client on Node's parser), and
 * Upstreams.send() itself (cluster, balancer, breakers, retry bookkeeping and today's pool-h1).
 * The upstream runs in a child process so that client and server do not share one event loop.
 * Not a test; run it by hand:
 *
 *   node .build/<dir>/src/proxy/upstream/http-client.bench.js [requests] [concurrency]
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Client, Pool, type Dispatcher } from 'undici';
import { Upstreams } from './upstreams.js';
import { assignment, cluster, endpoint } from './fixtures.js';

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

function weftUpstreams(port: number): { send: Send; close: () => Promise<void> } {
  const upstreams = new Upstreams();
  upstreams.apply([cluster('c', { loadBalancer: { policy: 'LEAST_REQUEST' } })], [assignment('c', [endpoint(port)])]);
  const retry = { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [], ignorePreviousHosts: true, backoffBaseMs: 25 };
  const send: Send = async () => {
    const res = await upstreams.send('c', { method: 'GET', path: '/x', headers: { host: 'svc', 'x-a': '1' }, body: null }, { retry });
    return drain(res.body);
  };
  return { send, close: () => upstreams.close() };
}

async function run(name: string, send: Send, total: number, concurrency: number): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
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
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.floor((latencies.length - 1) * p)] ?? 0).toFixed(3);
  console.log(`${name.padEnd(18)} ${(total / seconds).toFixed(0).padStart(7)} req/s  p50 ${pct(0.5)} ms  p99 ${pct(0.99)} ms`);
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 20000);
  const concurrency = Number(process.argv[3] ?? 16);
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    const clients = { 'node:http Agent': nodeHttp, 'undici Pool': undiciPool, 'undici dispatch': undiciDispatch, 'Upstreams.send': weftUpstreams };
    for (let round = 0; round < 2; round++) {
      console.log(round === 0 ? `warm-up, ${total} requests, concurrency ${concurrency}` : 'measured');
      for (const [name, make] of Object.entries(clients)) {
        const c = make(port, concurrency);
        await run(name, c.send, total, concurrency);
        await c.close();
      }
    }
  } finally {
    if (child.pid !== undefined) process.kill(child.pid);
  }
}

await main();
