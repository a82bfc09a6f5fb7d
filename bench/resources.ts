/**
 * The resource model (YAML with positions + schema + Istio validation) against a plain YAML
 * parse of the same bytes, and the analyzers over a bookinfo mesh.
 */
import { parseAllDocuments } from 'yaml';
import { readSources, loadResources, analyzeResources } from '../src/resources/index.js';
import { repoPath, sharedPath } from '../src/lib/repo.js';
import { measure } from './measure.js';

export function benchResources(): string {
  const sources = readSources([sharedPath('seed-configs'), sharedPath('istio-samples', 'bookinfo-networking'), repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml')]);
  const bytes = sources.reduce((n, s) => n + Buffer.byteLength(s.text), 0);
  const documents = sources.reduce((n, s) => n + parseAllDocuments(s.text).filter((d) => d.contents !== null).length, 0);
  const loaded = loadResources(sources, { duplicates: 'last-wins' });

  const plain = measure(() => {
    for (const s of sources) for (const d of parseAllDocuments(s.text)) d.toJS();
  });
  const load = measure(() => loadResources(sources, { duplicates: 'last-wins' }));
  const analyzers = measure(() => analyzeResources(loaded.resources));
  const both = measure(() => analyzeResources(loadResources(sources, { duplicates: 'last-wins' }).resources));

  const row = (name: string, perSec: number, vsPlain: boolean): string =>
    `| ${name} | ${perSec.toFixed(0)} | ${(perSec * documents).toFixed(0)} | ${vsPlain ? `${(plain / perSec).toFixed(1)}x slower than plain YAML parse` : '-'} |`;
  return [
    `Input: ${sources.length} files, ${documents} documents, ${(bytes / 1024).toFixed(1)} KiB (seed configs, bookinfo samples, bookinfo platform)`,
    '',
    '| benchmark | runs/s | documents/s | vs direct path |',
    '|---|---:|---:|---:|',
    row('plain YAML parse (direct path)', plain, false),
    row('load: YAML + positions + schema + validation', load, true),
    row('analyzers only', analyzers, false),
    row('weft analyze (load + analyzers)', both, true),
  ].join('\n');
}
