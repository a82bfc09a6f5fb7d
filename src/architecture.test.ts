/**
 * Imports follow the data flow (STYLE.md §6): each folder may import only the folders listed for
 * it, so the proxy never reaches into the control plane and `lib` stays mesh-agnostic. Folders
 * that do not exist yet are listed so the rule holds the day they land.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { repoPath } from './lib/repo.js';

const ALLOWED: Record<string, string[]> = {
  lib: [],
  resources: [],
  sources: ['resources'],
  registry: ['resources', 'sources'],
  'proxy-config': [],
  compiler: ['resources', 'sources', 'registry', 'proxy-config'],
  ca: ['proxy-config'],
  distribution: ['resources', 'sources', 'registry', 'compiler', 'proxy-config', 'ca'],
  'control-plane': ['resources', 'sources', 'registry', 'compiler', 'distribution', 'proxy-config', 'ca', 'telemetry'],
  telemetry: ['proxy-config'],
  proxy: ['proxy-config', 'distribution', 'telemetry'],
  // Install renders and plans; the CLI hands it the runtime's client (the runtime imports install).
  install: ['resources', 'registry'],
  // The runtime orchestrates every process: it mints proxy tokens (control-plane), decides
  // injection as the registry does, and renders installs.
  runtime: ['resources', 'sources', 'registry', 'proxy-config', 'control-plane', 'install'],
  cli: ['*'],
  dashboard: ['*'],
  // The demo app is a plain workload; its tests load its manifests with the resource model.
  demo: ['resources'],
  // End-to-end tests drive the whole system through the CLI, as a user does.
  e2e: ['*'],
};

const srcDir = repoPath('src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'testdata' ? [] : tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('imports point one way along the data flow', () => {
  const violations: string[] = [];
  for (const file of tsFiles(srcDir)) {
    const folder = relative(srcDir, file).split('/')[0] ?? '';
    if (!folder.includes('.') && !(folder in ALLOWED)) violations.push(`${relative(srcDir, file)}: folder ${folder} has no import rule in architecture.test.ts`);
    const allowed = ALLOWED[folder];
    if (!allowed || allowed.includes('*')) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
      const target = relative(srcDir, resolve(dirname(file), match[1] ?? ''));
      const targetFolder = target.split('/')[0] ?? '';
      if (targetFolder === folder || targetFolder === 'lib' || targetFolder.startsWith('..')) continue;
      if (!allowed.includes(targetFolder)) violations.push(`${relative(srcDir, file)} imports ${target} (${folder} may not depend on ${targetFolder})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('only `weft control-plane --kubernetes` loads the Kubernetes source (never the proxy or the local runtime)', () => {
  const allowed = new Set(['cli/commands/control-plane.ts']);
  const violations: string[] = [];
  for (const file of tsFiles(srcDir)) {
    const rel = relative(srcDir, file);
    if (rel.startsWith('sources/kubernetes/') || rel.startsWith('e2e/') || allowed.has(rel)) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:^\s*(?:import|export)(?!\s+type\b)[^'"]*from\s+|import\()['"](\.[^'"]+)['"]/gm)) {
      const target = relative(srcDir, resolve(dirname(file), match[1] ?? ''));
      if (target.startsWith('sources/kubernetes/')) violations.push(`${rel} imports ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});
