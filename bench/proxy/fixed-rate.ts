/**
 * A fixed-rate, open-loop HTTP load generator: request i is due at start + i/rate whatever
 * happened to earlier requests, and its latency is measured from that scheduled time, not from
 * when it was actually sent. A stalled server therefore shows up as latency on every request it
 * delayed, instead of the generator quietly sending less (coordinated omission, which wrk has).
 *
 * Timing: node's timers tick in whole milliseconds, too coarse for a 1 ms schedule, so a worker
 * thread sleeps on Atomics.wait (sub-millisecond) until each due time and posts the request's
 * index to the main thread, which sends it on keep-alive connections. How late sends were
 * against their schedule (`sendLag`) is reported so the generator's own error is visible.
 *
 * Run alone: `node fixed-rate.js --url http://127.0.0.1:8080/ [--rate 1000] [--duration 5] [--warmup 1]
 *   [--header 'Host: reviews:9080']...`
 * prints one JSON FixedRateResult on stdout.
 */
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface FixedRateOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  /** Measured period, after the warm-up. */
  durationMs: number;
  /** Sent at the same rate before measuring; not recorded. */
  warmupMs: number;
  /** Extra request headers (e.g. the Host a mesh route matches on). */
  headers?: Record<string, string>;
  /** Upper bound on open connections; requests beyond it queue (and their wait counts as latency). */
  maxConnections?: number;
  /** How long to wait for outstanding responses after the last send. */
  drainTimeoutMs?: number;
}

export interface LatencySummary {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface FixedRateResult {
  rate: number;
  durationMs: number;
  /** Requests scheduled in the measured period. */
  scheduled: number;
  completed: number;
  /** Connection errors, non-2xx responses, and responses still missing at the end. */
  errors: number;
  non2xx: number;
  /** Completed requests per second over the measured period. */
  achievedRate: number;
  /** From scheduled send time to the last byte of the response. */
  latency: LatencySummary;
  /** How late the generator sent against its own schedule (its measurement error). */
  sendLag: LatencySummary;
}

interface TickerData {
  role: 'fixed-rate-ticker';
  /** process.hrtime.bigint() at the schedule's start, shared by both threads (one monotonic clock). */
  t0: bigint;
  intervalNs: number;
  count: number;
}

/** Nearest-rank percentiles over the recorded values (NaN entries are ignored), in ms. */
export function summarize(valuesNs: Float64Array): LatencySummary {
  const v = valuesNs.filter((x) => !Number.isNaN(x)).sort();
  if (v.length === 0) return { p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, p999Ms: NaN, maxMs: NaN, meanMs: NaN };
  const at = (p: number): number => (v[Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1))] ?? NaN) / 1e6;
  const sum = v.reduce((a, b) => a + b, 0);
  return { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: at(1), meanMs: sum / v.length / 1e6 };
}

export async function runFixedRate(opts: FixedRateOptions): Promise<FixedRateResult> {
  const url = new URL(opts.url);
  const intervalNs = 1e9 / opts.rate;
  const warmupCount = Math.round((opts.warmupMs * opts.rate) / 1000);
  const measuredCount = Math.round((opts.durationMs * opts.rate) / 1000);
  const count = warmupCount + measuredCount;
  const latency = new Float64Array(count).fill(NaN);
  const lag = new Float64Array(count).fill(NaN);
  let errors = 0;
  let non2xx = 0;
  let outstanding = 0;
  let ticksDone = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxConnections ?? 256, maxFreeSockets: opts.maxConnections ?? 256 });
  const t0 = process.hrtime.bigint() + 50_000_000n;
  const sinceStart = (): number => Number(process.hrtime.bigint() - t0);

  const settle = (i: number, ok: boolean): void => {
    if (ok) latency[i] = sinceStart() - i * intervalNs;
    else if (i >= warmupCount) errors++;
    outstanding--;
    if (ticksDone && outstanding === 0) finish();
  };
  const send = (i: number): void => {
    lag[i] = sinceStart() - i * intervalNs;
    outstanding++;
    let settled = false;
    const once = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      settle(i, ok);
    };
    const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers: opts.headers }, (res) => {
      const status = res.statusCode ?? 0;
      res.on('data', () => {});
      res.once('end', () => {
        const ok = status >= 200 && status < 300;
        if (!ok && i >= warmupCount) non2xx++;
        once(ok);
      });
      res.once('error', () => once(false));
    });
    req.once('error', () => once(false));
    req.end();
  };

  const ticker = new Worker(new URL(import.meta.url), { workerData: { role: 'fixed-rate-ticker', t0, intervalNs, count } satisfies TickerData });
  ticker.on('message', (i: number) => send(i));
  await new Promise<void>((resolve, reject) => {
    ticker.once('exit', () => resolve());
    ticker.once('error', reject);
  });
  ticksDone = true;
  if (outstanding === 0) finish();
  const timedOut = await Promise.race([
    finished.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), opts.drainTimeoutMs ?? 5000).unref()),
  ]);
  if (timedOut) errors += outstanding;
  agent.destroy();

  const measured = latency.subarray(warmupCount);
  const completed = measured.filter((x) => !Number.isNaN(x)).length;
  return {
    rate: opts.rate,
    durationMs: opts.durationMs,
    scheduled: measuredCount,
    completed,
    errors,
    non2xx,
    achievedRate: (completed * 1000) / opts.durationMs,
    latency: summarize(measured),
    sendLag: summarize(lag.subarray(warmupCount)),
  };
}

/** The ticker thread: sleeps until each due time and posts the index; Atomics.wait sleeps with sub-ms precision. */
function runTicker(data: TickerData): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < data.count; i++) {
    const waitNs = i * data.intervalNs - Number(process.hrtime.bigint() - data.t0);
    if (waitNs > 0) Atomics.wait(sleeper, 0, 0, waitNs / 1e6);
    parentPort?.postMessage(i);
  }
}

/** Every `--header 'Name: value'` on the command line. */
function headerArgs(): Record<string, string> {
  const out: Record<string, string> = {};
  process.argv.forEach((a, i) => {
    const v = process.argv[i + 1];
    if (a !== '--header' || v === undefined) return;
    const colon = v.indexOf(':');
    if (colon > 0) out[v.slice(0, colon).trim().toLowerCase()] = v.slice(colon + 1).trim();
  });
  return out;
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`fixed-rate: --${name} is required`);
  return v;
}

if (!isMainThread && (workerData as Partial<TickerData> | null)?.role === 'fixed-rate-ticker') {
  runTicker(workerData as TickerData);
} else if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runFixedRate({
    url: arg('url'),
    rate: Number(arg('rate', '1000')),
    durationMs: Number(arg('duration', '5')) * 1000,
    warmupMs: Number(arg('warmup', '1')) * 1000,
    headers: headerArgs(),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
