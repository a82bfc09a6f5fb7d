/**
 * The page's sources (TypeScript with JSX for Preact, bundled by esbuild, which strips types
 * without checking them) are checked here with their own tsconfig (strict, the DOM library),
 * so the Node.js code never sees DOM types and the browser code is checked anyway. They import
 * only each other and the bundled libraries: never the control plane's code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoPath } from '../lib/repo.js';

const WEB = repoPath('src', 'dashboard', 'web');

test('the dashboard\'s browser sources type-check against the DOM', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(WEB, 'tsconfig.json')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('the browser sources import only each other, Preact, uPlot and cytoscape', () => {
  const allowed = /^(\.\/[a-z-]+\.(js|css)|preact|preact\/hooks|uplot|uplot\/dist\/uPlot\.min\.css|cytoscape)$/;
  const bad: string[] = [];
  for (const file of readdirSync(WEB).filter((f) => /\.tsx?$/.test(f))) {
    const text = readFileSync(join(WEB, file), 'utf8');
    // `import x from 'y'`, `export { x } from 'y'` and `import 'y'`, each on one line as the sources write them.
    for (const m of text.matchAll(/^\s*(?:(?:import|export)\b[^'"\n]*\bfrom\s+|import\s+)['"]([^'"]+)['"]/gm)) if (!allowed.test(m[1] ?? '')) bad.push(`${file}: ${m[1]}`);
  }
  assert.deepEqual(bad, []);
});
