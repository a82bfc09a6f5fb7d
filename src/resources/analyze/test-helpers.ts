/** Shared by the analyzer tests: load inline YAML (which must itself be valid) and analyze it. */
import assert from 'node:assert/strict';
import { formatDiagnostic, type Diagnostic } from '../../lib/diagnostic.js';
import { loadResources } from '../load.js';
import { analyzeResources } from './index.js';
import type { Analyzer } from './context.js';

export function analyzeYaml(yaml: string, analyzers: Analyzer[]): Diagnostic[] {
  const loaded = loadResources([{ file: 'test.yaml', text: yaml }]);
  const errors = loaded.diagnostics.filter((d) => d.level === 'Error');
  assert.deepEqual(errors.map(formatDiagnostic), [], 'the test YAML has load errors');
  return analyzeResources(loaded.resources, { analyzers });
}
