/**
 * The page's scripts are plain ES modules served as they are (no bundler), checked here as
 * TypeScript checks JavaScript (`// @ts-check`, JSDoc types, the DOM library) with their own
 * tsconfig, so the Node.js code never sees DOM types and the browser code gets checked anyway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { repoPath } from '../lib/repo.js';

test('the dashboard\'s browser scripts type-check against the DOM', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', repoPath('src', 'dashboard', 'web', 'tsconfig.json')], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
