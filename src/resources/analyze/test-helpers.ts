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

/** A minimal Deployment document (followed by `---`) whose pods carry `labels` and `annotations`. */
export function deploymentYaml(name: string, namespace: string, labels: Record<string, string>, annotations: Record<string, string> = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: ${JSON.stringify(labels)}}
  template:
    metadata: {labels: ${JSON.stringify(labels)}, annotations: ${JSON.stringify(annotations)}}
    spec: {containers: [{name: app, image: app:1}]}
---
`;
}
