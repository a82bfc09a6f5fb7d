/**
 * Table-driven test of invalid inputs: every `testdata/invalid/<case>.yaml` is loaded (and
 * analysed) and its diagnostics, one per line as `line:column code path: message`, must equal
 * `<case>.diagnostics.txt`. Regenerate with WEFT_UPDATE_GOLDEN=1 and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../lib/repo.js';
import { loadResources } from './load.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import { compareDiagnostics } from '../lib/diagnostic.js';

const dir = repoPath('src', 'resources', 'testdata', 'invalid');
const update = process.env.WEFT_UPDATE_GOLDEN === '1';

export function diagnosticLines(diagnostics: readonly Diagnostic[]): string {
  return [...diagnostics]
    .sort(compareDiagnostics)
    .map((d) => `${d.location?.line ?? 0}:${d.location?.column ?? 0} ${d.code} ${d.level} ${d.location?.path ?? ''}: ${d.message}`)
    .join('\n') + '\n';
}

const cases = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

test('there are at least 60 invalid-input cases', () => {
  assert.ok(cases.length >= 60, `only ${cases.length} cases in ${dir}`);
});

for (const file of cases) {
  test(`invalid input ${file}`, () => {
    const path = join(dir, file);
    const result = loadResources([{ file, text: readFileSync(path, 'utf8') }]);
    const actual = diagnosticLines(result.diagnostics);
    const goldenPath = path.replace(/\.yaml$/, '.diagnostics.txt');
    if (update) writeFileSync(goldenPath, actual);
    assert.ok(existsSync(goldenPath), `${goldenPath} is missing: run WEFT_UPDATE_GOLDEN=1 npm test and review it`);
    assert.ok(result.diagnostics.some((d) => d.level === 'Error' || d.level === 'Warning'), `${file} produced no error or warning`);
    assert.equal(actual, readFileSync(goldenPath, 'utf8'));
  });
}
