/**
 * The compiler benchmark: every bookinfo proxy (each pod's sidecar and the gateways) compiled
 * from one snapshot with the bookinfo samples applied, repeated; reports compiles per second.
 * Exported for bench/run.ts to add to its table.
 */
import { readSources } from '../src/resources/index.js';
import { sharedPath } from '../src/lib/repo.js';
import { buildTestMesh } from '../src/compiler/testkit.js';
import { compileProxyConfig, proxyNodeFor } from '../src/compiler/index.js';

export interface Row {
  name: string;
  opsPerSec: number;
  baseline?: string;
  ratio?: number;
}

export function benchCompile(iterations = 20): Row[] {
  const samples = readSources([sharedPath('istio-samples', 'bookinfo-networking')])
    .filter((s) => !/reviews-(50|80|test|jason)|ratings-test|all-mtls|fault-injection/.test(s.file));
  const mesh = buildTestMesh(samples);
  const nodes = mesh.registry.instances.map((i) => proxyNodeFor(i));
  const start = performance.now();
  for (let i = 0; i < iterations; i++) for (const node of nodes) compileProxyConfig(mesh.snapshot, node);
  const compiles = iterations * nodes.length;
  const perSec = (compiles * 1000) / (performance.now() - start);
  return [{ name: `compile: ${nodes.length} bookinfo proxies (sidecars + gateways)`, opsPerSec: perSec }];
}
