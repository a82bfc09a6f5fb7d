/**
 * The seed's configs and Istio's bookinfo samples, read from ../shared at test time: every file
 * loads, the seed's HTTPS Gateway without tls is rejected with its line, and the bookinfo
 * samples analysed with a bookinfo platform definition report no errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath, sharedPath } from '../lib/repo.js';
import { loadResources } from './load.js';
import { analyzeResources } from './analyze/index.js';
import { readSources } from './files.js';
import { formatDiagnostic } from '../lib/diagnostic.js';

const seedDir = sharedPath('seed-configs');
const samplesDir = sharedPath('istio-samples', 'bookinfo-networking');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));
}

for (const file of [...yamlFiles(seedDir), ...yamlFiles(samplesDir)]) {
  if (file.endsWith('03-gateway-https.yaml')) continue;
  test(`loads ${file.split('/shared/')[1]} with no error`, () => {
    const result = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
    // Warnings are allowed: Istio itself warns about some samples (IST0130 on fault-injection-details-v1).
    assert.deepEqual(result.diagnostics.filter((d) => d.level === 'Error').map(formatDiagnostic), []);
    assert.ok(result.resources.length > 0);
  });
}

test("the seed's HTTPS Gateway without tls is an error naming the server and its line", () => {
  const file = join(seedDir, '03-gateway-https.yaml');
  const result = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
  assert.equal(result.ok, false);
  const errors = result.diagnostics.filter((d) => d.level === 'Error');
  assert.equal(errors.length, 1, errors.map(formatDiagnostic).join('\n'));
  const [error] = errors;
  assert.equal(error?.code, 'IST0106');
  assert.equal(error?.location?.path, 'spec.servers[0]');
  assert.equal(error?.location?.line, 12);
  assert.match(error?.message ?? '', /TLS/);
});

test('the bookinfo samples analysed with a bookinfo platform report no errors', () => {
  const sources = readSources([repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml'), samplesDir]);
  const loaded = loadResources(sources, { duplicates: 'last-wins' });
  const diagnostics = [...loaded.diagnostics, ...analyzeResources(loaded.resources)];
  const errors = diagnostics.filter((d) => d.level === 'Error');
  assert.deepEqual(errors.map(formatDiagnostic), []);
  assert.ok(loaded.resources.length >= 25, `only ${loaded.resources.length} resources loaded`);
});
