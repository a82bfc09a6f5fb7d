/**
 * `npm run bench`: Weft's benchmarks, each beside its direct path or its reference, as ratios.
 * Sections: resources (load and analyze), compiler, push (control plane scale), proxy (against
 * direct, nginx, http-proxy and an undici proxy). `npm run bench -- resources compile` runs some.
 * Timing targets live here and in the README, never in `npm test`.
 */
import { readFileSync } from 'node:fs';
import { repoPath } from '../src/lib/repo.js';
import { benchResources } from './resources.js';
import { benchCompile } from './compile.js';
import { benchPush } from './push.js';
import { benchPushScope } from './push-scope.js';
import { benchPushGrid, describeGrowth } from './push-grid.js';
import { benchProxies } from './proxy/index.js';
import { benchCa } from './ca.js';
import { benchDashboard } from './dashboard.js';
import { benchTelemetry } from './telemetry.js';

const SECTIONS: Record<string, () => Promise<string> | string> = {
  resources: benchResources,
  compile: () => {
    const rows = benchCompile();
    return ['| benchmark | compiles/s |', '|---|---:|', ...rows.map((r) => `| ${r.name} | ${r.opsPerSec.toFixed(0)} |`)].join('\n');
  },
  push: async () => {
    const rows = await benchPush();
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
    return [`| benchmark | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.name} | ${keys.map((k) => String(r.values[k] ?? '-')).join(' | ')} |`)].join('\n');
  },
  'push-scope': async () => table(await benchPushScope()),
  'push-grid': async () => { const rows = await benchPushGrid(); return `${table(rows)}\n\n${describeGrowth(rows)}`; },
  proxy: async () => (await benchProxies()).markdown,
  ca: benchCa,
  dashboard: benchDashboard,
  telemetry: () => benchTelemetry(),
};

function table(rows: { name: string; values: Record<string, number | string> }[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  return [`| benchmark | ${keys.join(' | ')} |`, `|---|${keys.map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.name} | ${keys.map((k) => String(r.values[k] ?? '-')).join(' | ')} |`)].join('\n');
}

const wanted = process.argv.slice(2).filter((a) => a in SECTIONS);
const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
process.stdout.write(`Weft ${pkg.version} bench, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
for (const [name, run] of Object.entries(SECTIONS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stdout.write(`\n## ${name}\n\n${await run()}\n`);
}
