/**
 * `npm run bench`: Weft's benchmarks, each reported beside its direct path as a ratio.
 * So far: the resource model (YAML with positions + schema + Istio validation) against a plain
 * YAML parse of the same bytes, and the analyzers over a bookinfo mesh. The proxy, compiler
 * and push benchmarks join this file as those parts land.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { readSources, loadResources, analyzeResources } from '../src/resources/index.js';
import { repoPath, sharedPath } from '../src/lib/repo.js';

interface Row {
  name: string;
  opsPerSec: number;
  baseline?: string;
  ratio?: number;
}

/** Runs `fn` repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
function measure(fn: () => void, ms = 1500): number {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    ops++;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

const sources = readSources([sharedPath('seed-configs'), sharedPath('istio-samples', 'bookinfo-networking'), repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml')]);
const bytes = sources.reduce((n, s) => n + Buffer.byteLength(s.text), 0);
const docs = loadResources(sources, { duplicates: 'last-wins' });
const documentCount = sources.reduce((n, s) => n + parseAllDocuments(s.text).filter((d) => d.contents !== null).length, 0);

const rows: Row[] = [];
const plain = measure(() => {
  for (const s of sources) for (const d of parseAllDocuments(s.text)) d.toJS();
});
rows.push({ name: 'plain YAML parse (direct path)', opsPerSec: plain });
const load = measure(() => loadResources(sources, { duplicates: 'last-wins' }));
rows.push({ name: 'load: YAML + positions + schema + validation', opsPerSec: load, baseline: 'plain YAML parse', ratio: plain / load });
const analyze = measure(() => analyzeResources(docs.resources));
rows.push({ name: 'analyzers only', opsPerSec: analyze });
const both = measure(() => {
  const l = loadResources(sources, { duplicates: 'last-wins' });
  analyzeResources(l.resources);
});
rows.push({ name: 'weft analyze (load + analyzers)', opsPerSec: both, baseline: 'plain YAML parse', ratio: plain / both });

const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
process.stdout.write(`Weft ${pkg.version} bench, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
process.stdout.write(`Input: ${sources.length} files, ${documentCount} documents, ${(bytes / 1024).toFixed(1)} KiB (seed configs, bookinfo samples, bookinfo platform)\n\n`);
process.stdout.write('| benchmark | runs/s | documents/s | vs direct path |\n|---|---:|---:|---:|\n');
for (const r of rows) {
  const ratio = r.ratio ? `${r.ratio.toFixed(1)}x slower than ${r.baseline}` : '-';
  process.stdout.write(`| ${r.name} | ${r.opsPerSec.toFixed(0)} | ${(r.opsPerSec * documentCount).toFixed(0)} | ${ratio} |\n`);
}
