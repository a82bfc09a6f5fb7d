/**
 * Any input, however broken, gives diagnostics, never an exception: real configs from the seed
 * and Istio's samples are mutated at random (values replaced by other types, fields removed,
 * bytes cut), then loaded and analysed. The PRNG is seeded so a failure can be replayed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments, stringify } from 'yaml';
import { readSources } from './files.js';
import { loadResources } from './load.js';
import { analyzeResources } from './analyze/index.js';
import { repoPath, sharedPath } from '../lib/repo.js';
import { seededRandom } from '../lib/random.js';

const REPLACEMENTS: unknown[] = [null, 0, -1, 1e30, 'x', '', '7', '*', [], {}, [1, 'a'], { a: { b: 1 } }, true, '(?<=x)', '1.5.5s', '-5s', 'ns/'];

function mutate(value: unknown, random: () => number, depth = 0): unknown {
  if (Array.isArray(value)) {
    const out = value.map((v) => mutate(v, random, depth + 1));
    if (random() < 0.1) out.push(REPLACEMENTS[Math.floor(random() * REPLACEMENTS.length)]);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = random();
      if (depth > 0 && r < 0.05) continue; // drop the field
      if (r < 0.12) out[k] = REPLACEMENTS[Math.floor(random() * REPLACEMENTS.length)];
      else out[k] = mutate(v, random, depth + 1);
    }
    return out;
  }
  return random() < 0.1 ? REPLACEMENTS[Math.floor(random() * REPLACEMENTS.length)] : value;
}

const sources = readSources([sharedPath('seed-configs'), sharedPath('istio-samples', 'bookinfo-networking'), repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml')]);

test('2,000 mutated documents load and analyse without throwing', () => {
  const random = seededRandom(20261125);
  let diagnostics = 0;
  for (let round = 0; round < 40; round++) {
    const mutated = sources.map((s) => ({
      file: s.file,
      text: parseAllDocuments(s.text).map((d) => stringify(mutate(d.toJS(), random))).join('---\n'),
    }));
    const loaded = loadResources(mutated, { duplicates: 'last-wins' });
    const all = [...loaded.diagnostics, ...analyzeResources(loaded.resources)];
    // IST0001 means a check threw and was caught: still a bug.
    assert.deepEqual(all.filter((d) => d.code === 'IST0001').map((d) => d.message), [], `round ${round}`);
    diagnostics += all.length;
  }
  assert.ok(diagnostics > 0);
});

test('truncated and garbled bytes load without throwing', () => {
  const random = seededRandom(7);
  for (const s of sources) {
    for (let i = 0; i < 20; i++) {
      const cut = Math.floor(random() * s.text.length);
      const garbled = s.text.slice(0, cut) + String.fromCharCode(Math.floor(random() * 128)) + s.text.slice(cut + 1, cut + 1 + Math.floor(random() * 200));
      const loaded = loadResources([{ file: s.file, text: garbled }]);
      analyzeResources(loaded.resources);
    }
  }
});
