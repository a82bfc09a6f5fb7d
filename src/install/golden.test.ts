/**
 * Golden files for `weft install`'s render: each testdata/<case>.in.yaml (an IstioOperator file,
 * or only comments for an install from flags alone; a header line `# args: --set a=b --revision r`
 * gives the flags) is resolved and rendered and compared with <case>.out.yaml: the objects, or
 * the exact errors. The seed's operator file is read from ../shared verbatim.
 * WEFT_UPDATE_GOLDEN=1 rewrites the outputs instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoPath, sharedPath } from '../lib/repo.js';
import { loadResources } from '../resources/index.js';
import { resolveOperator } from './operator.js';
import { renderInstall } from './render.js';

const UPDATE = process.env.WEFT_UPDATE_GOLDEN === '1';
const testdata = repoPath('src', 'install', 'testdata');

function parseArgs(text: string): { sets: string[]; revision?: string } {
  const line = /^# args:(.*)$/m.exec(text)?.[1]?.trim() ?? '';
  const words = line === '' ? [] : line.split(/\s+/);
  const sets: string[] = [];
  let revision: string | undefined;
  for (let i = 0; i < words.length; i += 2) {
    const value = words[i + 1] ?? '';
    if (words[i] === '--set') sets.push(value);
    else if (words[i] === '--revision') revision = value;
    else throw new Error(`unknown test argument ${words[i]}`);
  }
  return { sets, ...(revision !== undefined ? { revision } : {}) };
}

function render(file: string, text: string): string {
  const hasDocument = text.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const result = resolveOperator({ files: hasDocument ? [{ file, text }] : [], ...parseArgs(text) });
  const warnings = result.warnings.map((w) => `# warning: ${w}\n`).join('');
  if (!result.ok) return `${warnings}${result.errors.map((e) => `# error: ${e}\n`).join('')}`;
  const objects = renderInstall(result.operator);
  // Whatever is rendered must apply: every object passes the same validation as `weft apply`.
  const loaded = loadResources([{ file: 'rendered', text: objects.map((o) => stringify(o)).join('---\n') }]);
  assert.deepEqual(loaded.diagnostics, [], `${file}: rendered objects do not validate`);
  return `${warnings}${objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n')}`;
}

function check(name: string, file: string, text: string, outFile: string): void {
  test(`install golden ${name}`, () => {
    const actual = render(file, text);
    if (UPDATE) {
      writeFileSync(outFile, actual);
      return;
    }
    assert.ok(existsSync(outFile), `${outFile} is missing; run with WEFT_UPDATE_GOLDEN=1`);
    assert.equal(actual, readFileSync(outFile, 'utf8'));
  });
}

const seed = readFileSync(sharedPath('seed-configs', '01-istio-operator.yaml'), 'utf8');
check('seed operator file', 'seed-configs/01-istio-operator.yaml', seed, join(testdata, 'seed.out.yaml'));
check('seed operator file --revision 1-20-1', 'seed-configs/01-istio-operator.yaml', `# args: --revision 1-20-1\n${seed}`, join(testdata, 'seed-revision.out.yaml'));

for (const f of readdirSync(testdata).filter((n) => n.endsWith('.in.yaml')).sort()) {
  const name = f.replace(/\.in\.yaml$/, '');
  check(name, f, readFileSync(join(testdata, f), 'utf8'), join(testdata, `${name}.out.yaml`));
}
