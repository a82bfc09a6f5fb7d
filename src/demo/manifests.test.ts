/**
 * The demo's manifests load with no diagnostic at all, analyze with no error on their own and with
 * each of Istio's bookinfo samples (read from ../shared, the way a user applies them), run the
 * demo's own command in every container, and route the gateway exactly as Istio's
 * bookinfo-gateway.yaml does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../lib/repo.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import { loadResources, type SourceText } from '../resources/load.js';
import { analyzeResources } from '../resources/analyze/index.js';
import { DEMO_MANIFESTS, DEMO_PORT } from './index.js';

const samplesDir = sharedPath('istio-samples', 'bookinfo-networking');
const read = (file: string): SourceText => ({ file, text: readFileSync(file, 'utf8') });
const demoSources = (): SourceText[] => Object.values(DEMO_MANIFESTS).map(read);

test('the demo manifests load with no diagnostics', () => {
  for (const source of demoSources()) {
    const loaded = loadResources([source]);
    assert.deepEqual(loaded.diagnostics.map(formatDiagnostic), [], source.file);
    assert.ok(loaded.resources.length > 0, source.file);
  }
});

test('weft analyze finds no error in the demo manifests', () => {
  const loaded = loadResources(demoSources());
  const errors = [...loaded.diagnostics, ...analyzeResources(loaded.resources)].filter((d) => d.level === 'Error');
  assert.deepEqual(errors.map(formatDiagnostic), []);
});

// Each task file on top of the running demo, as the tasks apply them: no subset, host or gateway missing.
for (const sample of readdirSync(samplesDir).filter((f) => /^(virtual-service|fault-injection|bookinfo-gateway).*\.yaml$/.test(f))) {
  test(`Istio's ${sample} analyzes with no error against the demo`, () => {
    const loaded = loadResources([...demoSources(), read(join(samplesDir, sample))], { duplicates: 'last-wins' });
    const errors = [...loaded.diagnostics, ...analyzeResources(loaded.resources)].filter((d) => d.level === 'Error');
    assert.deepEqual(errors.map(formatDiagnostic), []);
  });
}

test('every demo container runs `weft demo <app>` on 9080 with a readiness probe, reviews with its version', () => {
  const { resources } = loadResources([read(DEMO_MANIFESTS.bookinfo)]);
  const deployments = resources.filter((r) => r.kind === 'Deployment');
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
  for (const d of deployments) {
    const template = (d.raw.spec as { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: ContainerShape[] } } }).template;
    const { app, version } = template.metadata.labels;
    assert.equal(template.spec.serviceAccountName, `bookinfo-${app}`);
    const [container] = template.spec.containers;
    assert.deepEqual(container?.command, ['weft', 'demo', app]);
    assert.deepEqual(container?.args, app === 'reviews' ? ['--variant', version] : undefined);
    assert.deepEqual(container?.ports, [{ containerPort: DEMO_PORT }]);
    assert.deepEqual(container?.readinessProbe?.httpGet, { path: '/health', port: DEMO_PORT });
  }
  const services = resources.filter((r) => r.kind === 'Service').map((s) => [s.metadata.name, JSON.stringify((s.raw.spec as { ports: unknown }).ports)]);
  assert.deepEqual(services, ['details', 'ratings', 'reviews', 'productpage'].map((name) => [name, JSON.stringify([{ port: 9080, name: 'http' }])]));
});

test("the demo's gateway routes as Istio's bookinfo-gateway.yaml", () => {
  const ours = loadResources([read(DEMO_MANIFESTS.gateway)]).resources;
  const istio = loadResources([read(join(samplesDir, 'bookinfo-gateway.yaml'))]).resources;
  const byKind = (list: typeof ours) => list.map((r) => ({ kind: r.kind, name: r.metadata.name, namespace: r.metadata.namespace, spec: r.spec }));
  assert.deepEqual(byKind(ours), byKind(istio));
});

interface ContainerShape {
  command?: string[];
  args?: string[];
  ports?: unknown[];
  readinessProbe?: { httpGet?: unknown };
}
