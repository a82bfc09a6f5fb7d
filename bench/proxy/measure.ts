/**
 * Measures one path (direct, or through one or two proxies) with the same steps for every row:
 * start, check one request returns the upstream's body, idle RSS, wrk warm-up, wrk saturation
 * (sampling RSS and CPU time), fixed-rate latency, stop.
 */
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FixedRateResult } from './fixed-rate.js';
import { cpuSeconds, rssMb, waitForExit, type Child, type ProcessGroup } from './processes.js';
import { runWrk, WRK_SETTINGS } from './wrk.js';

/** The latency load: 1,000 req/s, open loop, 5 s measured after 1 s at the same rate. */
export const FIXED_RATE = { rate: 1000, durationS: 5, warmupS: 1 };

/**
 * Above this p99 send lag the generator itself was starved of CPU (on a shared machine, by other
 * work), so the latency run is repeated once and the run with the more precise schedule is kept.
 */
const NOISY_SEND_LAG_MS = 1;

/** A running path under test: where to send load, and which processes are the proxy. */
export interface Started {
  url: string;
  /** Host header to send (a mesh route matches on it); absent: wrk's and node's default. */
  host?: string;
  /** The proxy's processes (one per hop), measured for RSS and CPU; empty for the direct path. */
  proxies: Child[];
  /** How the path was run, for the table (e.g. which Weft roles served it). */
  note?: string;
  cleanup?(): void;
}

export interface Target {
  name: string;
  /** The chain load travels, e.g. `wrk -> nginx -> upstream`. */
  path: string;
  hops: number;
  /** Why this row cannot run here (missing tool or command); the row is skipped with this note. */
  unavailable?: string;
  start(group: ProcessGroup, upstreamPort: number): Promise<Started>;
}

export interface Saturation {
  requestsPerSec: number;
  /** wrk's own (closed-loop) latency percentiles, for reference only. */
  wrkP50Ms: number;
  wrkP99Ms: number;
  errors: number;
  /** CPU used by the proxy processes during the measured run, in cores (1.0 = one core busy). */
  proxyCpuCores: number;
  upstreamCpuCores: number;
  /** requestsPerSec / proxyCpuCores; absent for the direct path. */
  requestsPerProxyCore?: number;
}

export interface ProxyRow {
  name: string;
  path: string;
  hops: number;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  saturation?: Saturation;
  fixedRate?: FixedRateResult;
  /** 2 when the first latency run was too noisy (see NOISY_SEND_LAG_MS) and was repeated. */
  fixedRateAttempts?: number;
  /** Sum over the proxy processes, MiB: after start and one request, and peak during saturation. */
  rssIdleMb?: number;
  rssLoadMb?: number;
  /** The same per proxy process (one per hop), to compare a single sidecar with the RSS target. */
  rssIdlePerProxyMb?: number[];
  vsDirect?: {
    throughputRatio: number;
    addedP50Ms: number;
    addedP99Ms: number;
    addedP50PerHopMs: number;
    addedP99PerHopMs: number;
  };
}

export interface Tools {
  wrk: string;
  node: string;
}

/** GET once; resolves with status and body (the sanity check before any load). */
export function getOnce(url: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {}, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('no response in 5 s')));
    req.once('error', reject);
    req.end();
  });
}

const sumOf = (children: Child[], f: (pid: number) => number): number => children.reduce((n, c) => n + f(c.pid), 0);

export async function measureTarget(group: ProcessGroup, tools: Tools, target: Target, upstream: Child, upstreamPort: number, expectedBody: string): Promise<ProxyRow> {
  const row: ProxyRow = { name: target.name, path: target.path, hops: target.hops, status: 'skipped' };
  if (target.unavailable) return { ...row, note: target.unavailable };
  let started: Started | undefined;
  try {
    started = await target.start(group, upstreamPort);
    if (started.note) row.note = started.note;
    const first = await getOnce(started.url, started.host);
    if (first.status !== 200 || first.body !== expectedBody) {
      throw new Error(`sanity request got ${first.status} ${JSON.stringify(first.body.slice(0, 120))}, not the upstream's 200 body`);
    }
    await sleep(500);
    const proxies = started.proxies;
    if (proxies.length > 0) {
      row.rssIdlePerProxyMb = proxies.map((c) => rssMb(c.pid));
      row.rssIdleMb = row.rssIdlePerProxyMb.reduce((a, b) => a + b, 0);
    }

    await runWrk(group, tools.wrk, started.url, WRK_SETTINGS.warmupS, started.host);
    const cpu0 = sumOf(proxies, cpuSeconds);
    const up0 = cpuSeconds(upstream.pid);
    const t0 = performance.now();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, sumOf(proxies, rssMb))), 250);
    const wrk = await runWrk(group, tools.wrk, started.url, WRK_SETTINGS.durationS, started.host).finally(() => clearInterval(sampler));
    const wall = (performance.now() - t0) / 1000;
    const proxyCpuCores = (sumOf(proxies, cpuSeconds) - cpu0) / wall;
    row.saturation = {
      requestsPerSec: wrk.requestsPerSec,
      wrkP50Ms: wrk.p50Ms,
      wrkP99Ms: wrk.p99Ms,
      errors: wrk.errors,
      proxyCpuCores,
      upstreamCpuCores: (cpuSeconds(upstream.pid) - up0) / wall,
      ...(proxies.length > 0 && proxyCpuCores > 0 ? { requestsPerProxyCore: wrk.requestsPerSec / proxyCpuCores } : {}),
    };
    if (proxies.length > 0) row.rssLoadMb = Math.max(peak, sumOf(proxies, rssMb));

    await sleep(500);
    let latency = await fixedRate(group, tools, started.url, started.host);
    if (latency.sendLag.p99Ms > NOISY_SEND_LAG_MS) {
      const again = await fixedRate(group, tools, started.url, started.host);
      if (again.sendLag.p99Ms < latency.sendLag.p99Ms) latency = again;
      row.fixedRateAttempts = 2;
    }
    row.fixedRate = latency;
    row.status = 'ok';
    const errors = wrk.errors + row.fixedRate.errors;
    if (errors > 0) row.note = [row.note, `${errors} errors/non-2xx under load`].filter(Boolean).join('; ');
  } catch (e) {
    row.status = 'failed';
    row.note = [row.note, e instanceof Error ? e.message : String(e)].filter(Boolean).join('; ');
  } finally {
    if (started) await Promise.all(started.proxies.map((c) => group.stop(c)));
    started?.cleanup?.();
  }
  return row;
}

/** The fixed-rate generator in its own process, so its event loop shares nothing with ours. */
async function fixedRate(group: ProcessGroup, tools: Tools, url: string, host?: string): Promise<FixedRateResult> {
  const script = fileURLToPath(new URL('./fixed-rate.js', import.meta.url));
  const args = [script, '--url', url, '--rate', String(FIXED_RATE.rate), '--duration', String(FIXED_RATE.durationS), '--warmup', String(FIXED_RATE.warmupS)];
  if (host) args.push('--header', `Host: ${host}`);
  const child = group.start('fixed-rate', tools.node, args);
  const code = await waitForExit(group, child, (FIXED_RATE.durationS + FIXED_RATE.warmupS + 15) * 1000);
  if (code !== 0) throw new Error(`fixed-rate generator exited with ${code}: ${child.stderr().trim().slice(-300)}`);
  return JSON.parse(child.stdout()) as FixedRateResult;
}
