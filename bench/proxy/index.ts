/**
 * The proxy benchmark: the direct path, Weft (one proxy, and the two-sidecar mesh path), nginx,
 * http-proxy and an undici-based proxy, measured in one run with the same load generators, and
 * reported as numbers and as ratios to the direct path.
 *
 * `benchProxies()` is what `npm run bench` calls; `node dist/bench/proxy/index.js` runs it alone.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoPath } from '../../src/lib/repo.js';
import { FIXED_RATE, getOnce, measureTarget, type ProxyRow, type Target } from './measure.js';
import { findTool, ProcessGroup } from './processes.js';
import { checkTargets, compareToDirect, markdown, type RunInfo } from './report.js';
import { directTarget, httpProxyTarget, nginxTarget, startNodeScript, undiciTarget, weftClientTarget } from './targets.js';
import { weftTargets } from './weft.js';
import { WRK_SETTINGS, wrkArgs } from './wrk.js';

export type { ProxyRow } from './measure.js';

export const RESULTS_FILE = repoPath('bench', 'results', 'latest.json');

export async function benchProxies(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ rows: ProxyRow[]; markdown: string }> {
  const info: RunInfo = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    loadAverage: loadavg(),
    wrkFlags: `\`wrk ${wrkArgs(WRK_SETTINGS, WRK_SETTINGS.durationS, 'URL').join(' ')}\` after a warm-up of \`wrk ${wrkArgs(WRK_SETTINGS, WRK_SETTINGS.warmupS, 'URL').join(' ')}\``,
    fixedRate: `bench/proxy/fixed-rate.ts, open loop at ${FIXED_RATE.rate} req/s for ${FIXED_RATE.durationS} s after ${FIXED_RATE.warmupS} s at the same rate, latency from each request's scheduled send time`,
  };
  const group = new ProcessGroup();
  // Whatever ends this process, the children go with it.
  const onExit = (): void => group.killAllNow();
  const onSignal = (sig: NodeJS.Signals): void => {
    group.killAllNow();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows: ProxyRow[] = [];
  try {
    const wrk = findTool('wrk');
    if (!wrk) {
      const note = 'wrk not installed: apt-get install -y wrk';
      log(`proxy bench: ${note}; skipping every row`);
      rows.push(...allTargets(undefined).map((t) => ({ name: t.name, path: t.path, hops: t.hops, status: 'skipped' as const, note })));
    } else {
      const upstream = await startNodeScript(group, 'upstream', 'upstream.js');
      const expected = (await getOnce(`http://127.0.0.1:${upstream.port}/`)).body;
      for (const target of allTargets(findTool('nginx'))) {
        if (target.unavailable) log(`proxy bench: ${target.name}: skipped: ${target.unavailable}`);
        else log(`proxy bench: ${target.name} (${target.path})`);
        const row = await measureTarget(group, { wrk, node: process.execPath }, target, upstream.child, upstream.port, expected);
        if (row.status === 'failed') log(`proxy bench: ${target.name}: failed: ${row.note ?? ''}`);
        rows.push(row);
      }
    }
  } finally {
    await group.stopAll();
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  info.loadAverageAtEnd = loadavg();
  compareToDirect(rows);
  const checks = checkTargets(rows);
  const md = markdown(rows, checks, info);
  // A partial run (WEFT_BENCH_ROWS) is for comparing; it does not replace the full results.
  if (process.env.WEFT_BENCH_ROWS) log(`proxy bench: partial run (WEFT_BENCH_ROWS), ${RESULTS_FILE} left as it is`);
  else writeResults({ info, rows, targets: checks, markdown: md });
  return { rows, markdown: md };
}

/** Every row, or only those named in WEFT_BENCH_ROWS (comma-separated; `direct` is always kept, it is the reference). */
function allTargets(nginx: string | undefined): Target[] {
  const all = [directTarget, ...weftTargets(), nginxTarget(nginx), httpProxyTarget, undiciTarget, weftClientTarget];
  const only = process.env.WEFT_BENCH_ROWS?.split(',').map((s) => s.trim()).filter(Boolean);
  return only && only.length > 0 ? all.filter((t) => t === directTarget || only.includes(t.name)) : all;
}

/** Merges `{ proxy: ... }` into bench/results/latest.json, keeping what other benchmarks wrote there. */
function writeResults(proxy: unknown): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    const prev = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as unknown;
    if (prev && typeof prev === 'object' && !Array.isArray(prev)) all = prev as Record<string, unknown>;
  } catch {
    // first run, or an unreadable file we replace
  }
  all.proxy = proxy;
  writeFileSync(RESULTS_FILE, `${JSON.stringify(all, null, 2)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { markdown: md } = await benchProxies();
  process.stdout.write(`${md}\n${process.env.WEFT_BENCH_ROWS ? '' : `Results written to ${RESULTS_FILE}\n`}`);
}
