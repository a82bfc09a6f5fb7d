/**
 * Config push benchmark: one PushServer in this process, N simulated proxies (real DiscoveryClients
 * over real HTTP/2 on loopback) in a child process, so the server's RSS and CPU are measured
 * alone and the two sides compete for the machine's cores as a control plane and its proxies
 * would. One change affecting every proxy is made, and the time from notifyChange to each ACK
 * arriving at the server is recorded. The default 100 ms debounce is part of that time, as it is
 * for a user.
 *
 * If the open-file limit cannot hold one connection per proxy, several proxies' streams share one
 * HTTP/2 session (the `sessions` column says how many there were).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { fileURLToPath } from 'node:url';
import { DiscoveryClient } from '../src/distribution/client.js';
import { PushServer } from '../src/distribution/index.js';
import type { ProxyConfig, ProxyNode } from '../src/proxy-config/index.js';

export interface Row {
  name: string;
  values: Record<string, number | string>;
}

const CHILD_FLAG = '--weft-push-clients';
const TOKEN = 'bench-token';

interface ChildStart {
  port: number;
  count: number;
  streamsPerSession: number;
}
type ChildReport = { ready: true; rss: number } | { stopped: true };

export async function benchPush(counts = [100, 1000, 5000]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const count of counts) rows.push(await benchOne(count));
  return rows;
}

/** A sidecar's config in a mesh of 30 services, each with 3 endpoints; `generation` moves one endpoint. */
function compileFor(node: ProxyNode, generation: number): ProxyConfig {
  const services = Array.from({ length: 30 }, (_, i) => ({ name: `svc-${i}`, host: `svc-${i}.default.svc.cluster.local` }));
  return {
    version: '',
    node,
    listeners: services.map((s, i) => ({
      name: `0.0.0.0_${9000 + i}`, direction: 'outbound' as const, address: '0.0.0.0', port: 9000 + i,
      filterChains: [{ name: s.name, match: {}, protocol: 'http' as const, http: { routeConfig: String(9000 + i), filters: [], statPrefix: 'outbound' } }],
    })),
    routes: services.map((s, i) => ({
      name: String(9000 + i),
      virtualHosts: [{ name: `${s.host}:${9000 + i}`, domains: [s.name, `${s.name}.default`, s.host], routes: [{ name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'forward' as const, clusters: [{ cluster: `outbound|${9000 + i}||${s.host}`, weight: 100 }] } }] }],
    })),
    clusters: services.map((s, i) => ({
      name: `outbound|${9000 + i}||${s.host}`, discovery: 'eds' as const, protocol: 'auto' as const, loadBalancer: { policy: 'LEAST_REQUEST' as const }, connectTimeoutMs: 10_000,
      circuitBreakers: { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, maxRequestsPerConnection: 0 },
      tls: { mode: 'ISTIO_MUTUAL' as const, certificate: 'default', validationContext: 'ROOTCA', sni: `outbound_.${9000 + i}_._.${s.host}` },
    })),
    endpoints: services.map((s, i) => ({
      cluster: `outbound|${9000 + i}||${s.host}`,
      endpoints: [0, 1, 2].map((e) => ({
        address: `10.${i}.${e}.${i === 0 && e === 0 ? generation % 250 : 1}`, port: 8080, weight: 1, labels: { app: s.name, version: `v${e + 1}` },
        workload: { name: `${s.name}-v${e + 1}`, namespace: 'default', serviceAccount: s.name }, tlsMode: 'istio' as const, healthy: true,
      })),
    })),
    secrets: [],
    mesh: { trustDomain: 'cluster.local', pathNormalization: 'BASE', outboundTrafficPolicy: 'ALLOW_ANY' },
  };
}

function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : 1024;
  } catch {
    return 1024;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

async function benchOne(count: number): Promise<Row> {
  let generation = 0;
  const server = new PushServer({
    compile: (node) => compileFor(node, generation),
    authenticate: (token) => token === TOKEN,
    replicaId: 'bench',
  });
  const port = await server.listen(0, '127.0.0.1');
  // Each side of a connection is one descriptor in its own process; keep 256 spare.
  const streamsPerSession = Math.max(1, Math.ceil(count / Math.max(1, openFileLimit() - 256)));
  const rssBefore = process.memoryUsage().rss;
  const connectStart = performance.now();
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reports: ChildReport[] = [];
  child.on('message', (m) => reports.push(m as ChildReport));
  child.send({ port, count, streamsPerSession } satisfies ChildStart);
  await until(() => reports.some((r) => 'ready' in r) && server.proxies().filter((p) => p.state === 'SYNCED').length === count, 'all proxies SYNCED', 120_000);
  const connectAllMs = performance.now() - connectStart;
  const clientRss = reports.find((r): r is { ready: true; rss: number } => 'ready' in r)?.rss ?? NaN;
  const rssConnected = process.memoryUsage().rss;

  const acks: number[] = [];
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  server.on('ack', () => acks.push(performance.now() - start));
  generation++;
  server.notifyChange('all');
  await until(() => acks.length === count, 'all ACKs', 60_000);
  const cpu = process.cpuUsage(cpuBefore);
  acks.sort((a, b) => a - b);

  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  await server.close();
  const configBytes = Buffer.byteLength(JSON.stringify(compileFor({ id: 'p.default', role: 'sidecar', namespace: 'default', workload: 'p', labels: {}, serviceAccount: 'p', ip: '10.0.0.1', revision: '' }, 0)));
  return {
    name: `push to ${count} proxies`,
    values: {
      proxies: count,
      sessions: Math.ceil(count / streamsPerSession),
      configKiB: round(configBytes / 1024),
      debounceMs: 100,
      p50Ms: round(percentile(acks, 50)),
      p99Ms: round(percentile(acks, 99)),
      lastAckMs: round(acks[acks.length - 1] ?? NaN),
      serverCpuMs: round((cpu.user + cpu.system) / 1000),
      serverCpuPerProxyUs: round((cpu.user + cpu.system) / count, 0),
      serverRssMiB: round(rssConnected / 2 ** 20),
      serverRssPerProxyKiB: round((rssConnected - rssBefore) / 1024 / count),
      clientRssPerProxyKiB: round(clientRss / 1024 / count),
      connectAllMs: round(connectAllMs, 0),
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`push bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The child: `count` DiscoveryClients, started in waves so the listen backlog is never flooded. */
async function runClients({ port, count, streamsPerSession }: ChildStart): Promise<void> {
  const url = `http://127.0.0.1:${port}`;
  const sessions: http2.ClientHttp2Session[] = [];
  const clients: DiscoveryClient[] = [];
  let applied = 0;
  for (let i = 0; i < count; i++) {
    const sessionIndex = Math.floor(i / streamsPerSession);
    const client = new DiscoveryClient({
      servers: [url],
      node: { id: `proxy-${i}.default`, role: 'sidecar', namespace: 'default', workload: `proxy-${i}`, labels: { app: `proxy-${i}` }, serviceAccount: 'default', ip: '10.0.0.1', revision: '' },
      token: TOKEN,
      apply: () => ({ ok: true }),
      backoff: { initialMs: 1000, maxMs: 30_000 },
      connect: streamsPerSession === 1 ? undefined : () => (sessions[sessionIndex] ??= http2.connect(url).on('error', () => {})),
    });
    client.once('applied', () => applied++);
    clients.push(client);
    client.start();
    if (i % 250 === 249) await untilChild(() => applied === i + 1);
  }
  await untilChild(() => applied === count);
  process.send?.({ ready: true, rss: process.memoryUsage().rss } satisfies ChildReport);
  process.once('message', () => {
    for (const client of clients) client.stop();
    for (const session of sessions) session.destroy();
    process.disconnect();
  });
}

async function untilChild(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

if (process.argv.includes(CHILD_FLAG)) {
  process.once('message', (start) => void runClients(start as ChildStart));
}
