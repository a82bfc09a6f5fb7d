/**
 * The proxy imports the distribution client, so the client's whole import closure must stay on
 * the proxy's side of the line: node built-ins, proxy-config and lib only, nothing of the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { repoPath } from '../lib/repo.js';

test('client.ts imports only node built-ins, proxy-config, lib and client-safe siblings', () => {
  const src = repoPath('src');
  const seen = new Set<string>();
  const outside: string[] = [];
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec = ''] of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      if (!spec.startsWith('.')) {
        if (!spec.startsWith('node:')) outside.push(`${relative(src, file)} imports package ${spec}`);
        continue;
      }
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      const folder = relative(src, target).split('/')[0];
      if (folder === 'distribution') visit(target);
      else if (folder !== 'proxy-config' && folder !== 'lib') outside.push(`${relative(src, file)} imports ${relative(src, target)}`);
    }
  };
  visit(repoPath('src', 'distribution', 'client.ts'));
  assert.deepEqual(outside, []);
  assert.deepEqual([...seen].map((f) => relative(src, f)).sort(), [
    'distribution/backoff.ts', 'distribution/client.ts', 'distribution/clock.ts', 'distribution/delta.ts', 'distribution/keepalive.ts', 'distribution/protocol.ts',
  ]);
});
