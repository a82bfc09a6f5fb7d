/**
 * Ratios to the direct path, the issue's targets, and the Markdown table for the README.
 */
import type { ProxyRow } from './measure.js';

/** The proxy targets from the issue. */
export const TARGETS = {
  addedP50PerHopMs: 0.5,
  addedP99PerHopMs: 2,
  perCoreVsNginx: 0.7,
  perCoreVsUndici: 1.3,
  idleSidecarRssMb: 50,
};

/** Fills `vsDirect` on every measured row from the direct row's figures. */
export function compareToDirect(rows: ProxyRow[]): void {
  const direct = rows.find((r) => r.hops === 0 && r.status === 'ok');
  if (!direct?.saturation || !direct.fixedRate) return;
  for (const r of rows) {
    if (r.hops === 0 || r.status !== 'ok' || !r.saturation || !r.fixedRate) continue;
    const addedP50Ms = r.fixedRate.latency.p50Ms - direct.fixedRate.latency.p50Ms;
    const addedP99Ms = r.fixedRate.latency.p99Ms - direct.fixedRate.latency.p99Ms;
    r.vsDirect = {
      throughputRatio: r.saturation.requestsPerSec / direct.saturation.requestsPerSec,
      addedP50Ms,
      addedP99Ms,
      addedP50PerHopMs: addedP50Ms / r.hops,
      addedP99PerHopMs: addedP99Ms / r.hops,
    };
  }
}

export interface TargetCheck {
  target: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

/** Fixed digits; a difference that rounds to zero prints as 0.00, not -0.00. */
const fmt = (n: number | undefined, digits = 2): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits).replace(/^-(0\.?0*)$/, '$1'));

/** Each issue target against the Weft rows; `met: null` when the rows it needs did not run. */
export function checkTargets(rows: ProxyRow[]): TargetCheck[] {
  const ok = (name: string): ProxyRow | undefined => rows.find((r) => r.name === name && r.status === 'ok');
  // Baseline-build rows (WEFT_BENCH_BASELINE_MAIN) are for comparison only, never checked.
  const weftRows = rows.filter((r) => r.name.startsWith('weft') && !r.name.includes('(baseline') && r.status === 'ok');
  const checks: TargetCheck[] = [];
  const missing = (target: string, goal: string, why: string): TargetCheck => ({ target, goal, measured: why, met: null });
  if (weftRows.length === 0) {
    const why = 'no Weft row ran';
    return [
      missing('added latency per hop, p50 @ 1,000 req/s', `<= ${TARGETS.addedP50PerHopMs} ms`, why),
      missing('added latency per hop, p99 @ 1,000 req/s', `<= ${TARGETS.addedP99PerHopMs} ms`, why),
      missing('req/s per proxy core vs nginx', `>= ${TARGETS.perCoreVsNginx * 100}%`, why),
      missing('req/s per proxy core vs undici proxy', `>= ${TARGETS.perCoreVsUndici}x`, why),
      missing('idle sidecar RSS', `<= ${TARGETS.idleSidecarRssMb} MB`, why),
    ];
  }
  for (const w of weftRows) {
    const v = w.vsDirect;
    checks.push({ target: `${w.name}: added latency per hop, p50`, goal: `<= ${TARGETS.addedP50PerHopMs} ms`, measured: `${fmt(v?.addedP50PerHopMs)} ms`, met: v ? v.addedP50PerHopMs <= TARGETS.addedP50PerHopMs : null });
    checks.push({ target: `${w.name}: added latency per hop, p99`, goal: `<= ${TARGETS.addedP99PerHopMs} ms`, measured: `${fmt(v?.addedP99PerHopMs)} ms`, met: v ? v.addedP99PerHopMs <= TARGETS.addedP99PerHopMs : null });
  }
  // Per-core throughput compares one proxy process with another, so it uses the single-hop Weft row.
  const single = weftRows.find((r) => r.hops === 1);
  const perCore = single?.saturation?.requestsPerProxyCore;
  for (const [other, goal, label] of [
    ['nginx', TARGETS.perCoreVsNginx, `>= ${TARGETS.perCoreVsNginx * 100}% of nginx`],
    ['undici proxy', TARGETS.perCoreVsUndici, `>= ${TARGETS.perCoreVsUndici}x undici proxy`],
  ] as const) {
    const theirs = ok(other)?.saturation?.requestsPerProxyCore;
    const ratio = perCore !== undefined && theirs !== undefined ? perCore / theirs : undefined;
    checks.push({
      target: `req/s per proxy core vs ${other}`,
      goal: label,
      measured: ratio === undefined ? 'not measured' : `${fmt(perCore, 0)} vs ${fmt(theirs, 0)} = ${other === 'nginx' ? `${fmt(ratio * 100, 0)}%` : `${fmt(ratio)}x`}`,
      met: ratio === undefined ? null : ratio >= goal,
    });
  }
  // A sidecar's idle RSS: each process of the mesh row if it ran, else the single proxy.
  const mesh = weftRows.find((r) => r.hops === 2);
  const idle = mesh?.rssIdlePerProxyMb ?? single?.rssIdlePerProxyMb;
  const worst = idle && idle.length > 0 ? Math.max(...idle) : undefined;
  checks.push({
    target: `idle sidecar RSS (${mesh ? 'largest of the two sidecars' : 'single Weft proxy'})`,
    goal: `<= ${TARGETS.idleSidecarRssMb} MB`,
    measured: worst === undefined ? 'not measured' : `${fmt(worst, 1)} MB`,
    met: worst === undefined ? null : worst <= TARGETS.idleSidecarRssMb,
  });
  return checks;
}

function cells(r: ProxyRow): string[] {
  if (r.status !== 'ok' || !r.saturation || !r.fixedRate) {
    return [r.name, r.path, String(r.hops), `${r.status}: ${r.note ?? ''}`, '', '', '', '', '', ''];
  }
  const s = r.saturation;
  const f = r.fixedRate.latency;
  const v = r.vsDirect;
  return [
    r.note ? `${r.name} (${r.note})` : r.name,
    r.path,
    String(r.hops),
    `${fmt(s.requestsPerSec, 0)}${s.errors > 0 ? ` (${s.errors} errors)` : ''}`,
    v ? `${fmt(v.throughputRatio)}x` : '1.00x',
    r.hops === 0 ? '-' : `${fmt(s.proxyCpuCores)} / ${fmt(s.requestsPerProxyCore, 0)}`,
    `${fmt(f.p50Ms)} / ${fmt(f.p99Ms)}`,
    v ? `${fmt(v.addedP50Ms)} / ${fmt(v.addedP99Ms)}` : '-',
    v ? `${fmt(v.addedP50PerHopMs)} / ${fmt(v.addedP99PerHopMs)}` : '-',
    r.rssIdleMb === undefined ? '-' : `${fmt(r.rssIdleMb, 1)} / ${fmt(r.rssLoadMb, 1)}`,
  ];
}

/**
 * The cost of Istio mTLS on the mesh path: the `weft mesh (mTLS)` row against the plaintext
 * `weft mesh` row of the same run (same build, same two hops), as throughput and latency ratios.
 */
export function mtlsCost(rows: ProxyRow[]): string | undefined {
  const plain = rows.find((r) => r.name === 'weft mesh' && r.status === 'ok');
  const mtls = rows.find((r) => r.name === 'weft mesh (mTLS)' && r.status === 'ok');
  if (!plain?.saturation || !mtls?.saturation || !plain.fixedRate || !mtls.fixedRate) return undefined;
  const ratio = (a: number, b: number): string => (b > 0 ? `${fmt(a / b)}x` : '-');
  const p = plain.fixedRate.latency;
  const m = mtls.fixedRate.latency;
  return `mTLS cost on the mesh path (weft mesh (mTLS) vs weft mesh, plaintext): req/s ${fmt(mtls.saturation.requestsPerSec, 0)} vs ${fmt(plain.saturation.requestsPerSec, 0)} = ${ratio(mtls.saturation.requestsPerSec, plain.saturation.requestsPerSec)}`
    + `; req/s per proxy core ${ratio(mtls.saturation.requestsPerProxyCore ?? 0, plain.saturation.requestsPerProxyCore ?? 0)}`
    + `; p50 ${fmt(m.p50Ms)} vs ${fmt(p.p50Ms)} ms (${ratio(m.p50Ms, p.p50Ms)}), p99 ${fmt(m.p99Ms)} vs ${fmt(p.p99Ms)} ms (${ratio(m.p99Ms, p.p99Ms)}) at 1,000 req/s.`;
}

export interface RunInfo {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  loadAverage: number[];
  loadAverageAtEnd?: number[];
  wrkFlags: string;
  fixedRate: string;
}

export function markdown(rows: ProxyRow[], checks: TargetCheck[], info: RunInfo): string {
  const head = [
    'path',
    'chain',
    'proxy hops',
    'req/s at saturation',
    'vs direct',
    'proxy CPU (cores) / req/s per proxy core',
    'p50 / p99 at 1,000 req/s (ms)',
    'added p50 / p99 (ms)',
    'added per hop p50 / p99 (ms)',
    'proxy RSS idle / under load (MB)',
  ];
  const table = [head, head.map((_, i) => (i < 3 ? '---' : '---:')), ...rows.map(cells)].map((c) => `| ${c.join(' | ')} |`).join('\n');
  const targets = [
    '| target | goal | measured | met |',
    '|---|---|---|---|',
    ...checks.map((c) => `| ${c.target} | ${c.goal} | ${c.measured} | ${c.met === null ? 'not measured' : c.met ? 'yes' : 'no'} |`),
  ].join('\n');
  return [
    `Proxy benchmark, ${info.date}, node ${info.node}, ${info.cpus} CPUs (${info.cpuModel}), load average at start ${info.loadAverage.map((n) => n.toFixed(2)).join(' ')}.`,
    `Saturation: ${info.wrkFlags}. Latency: ${info.fixedRate}. RSS: VmRSS of the proxy's processes, idle after one request and peak during saturation. All processes on 127.0.0.1, upstream a node:http server with a fixed 30-byte body.`,
    '',
    table,
    '',
    ...(mtlsCost(rows) ? [mtlsCost(rows) as string, ''] : []),
    ...(rows.some((r) => (r.fixedRate?.sendLag.p99Ms ?? 0) > 1)
      ? ['**The machine was busy during this run** (the load generator itself ran more than 1 ms late at p99 in some rows): treat p99 figures as upper bounds and re-run on a quiet machine.', '']
      : []),
    `Load generator precision (how late fixed-rate sends were against their schedule, p99): ${rows
      .filter((r) => r.fixedRate)
      .map((r) => `${r.name} ${fmt(r.fixedRate?.sendLag.p99Ms)} ms`)
      .join(', ')}. Latency differences smaller than this are noise; load average at the end ${info.loadAverageAtEnd?.map((n) => n.toFixed(2)).join(' ') ?? '-'}.`,
    '',
    targets,
    '',
  ].join('\n');
}
