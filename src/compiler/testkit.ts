/**
 * Test and benchmark helpers: a mesh from YAML sources (resources -> instances -> registry ->
 * snapshot), the proxy node of a named workload, and the golden rendering of compiled configs
 * (YAML, secrets redacted). Not part of the compiler's public surface.
 */
import { stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { loadResources, type AnyResource, type SourceText } from '../resources/index.js';
import { buildRegistry, workloadInstances, meshOptionsFrom, type Registry } from '../registry/index.js';
import type { ProxyConfig, ProxyNode, ProxyRole } from '../proxy-config/index.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import { repoPath } from '../lib/repo.js';
import { buildSnapshot, type Snapshot } from './snapshot.js';
import { proxyNodeFor } from './proxy-node.js';

export interface TestMesh {
  resources: AnyResource[];
  registry: Registry;
  snapshot: Snapshot;
  /** Load errors: a mesh with errors is never compiled (all-or-nothing, like an apply). */
  errors: string[];
}

/** The platform compiler tests run on: bookinfo and the installed gateways, plus the seed's apps when asked. */
export function platformSources(options: { seedApps?: boolean } = {}): SourceText[] {
  const files = [
    ['src/resources/testdata/bookinfo/platform.yaml', repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml')],
    ['src/compiler/testdata/platform/gateways.yaml', repoPath('src', 'compiler', 'testdata', 'platform', 'gateways.yaml')],
    ...(options.seedApps ? [['src/compiler/testdata/platform/seed-apps.yaml', repoPath('src', 'compiler', 'testdata', 'platform', 'seed-apps.yaml')]] : []),
  ];
  return files.map(([file, path]) => ({ file: file as string, text: readFileSync(path as string, 'utf8') }));
}

export function buildTestMesh(cases: readonly SourceText[], platform: readonly SourceText[] = platformSources()): TestMesh {
  const caseLoad = loadResources(cases);
  const errors = caseLoad.diagnostics.filter((d) => d.level === 'Error').map(formatDiagnostic);
  // Platform first, the case after: a case may redefine a platform resource (last wins).
  const loaded = loadResources([...platform, ...cases], { duplicates: 'last-wins' });
  const resources = loaded.resources;
  const mesh = meshOptionsFrom(resources);
  const registry = buildRegistry(resources, workloadInstances(resources), mesh);
  return { resources, registry, snapshot: buildSnapshot(resources, registry, mesh), errors };
}

/** The node of the first pod of `workload` in `namespace`, with the role the test names. */
export function nodeOf(registry: Registry, role: ProxyRole, workload: string, namespace: string): ProxyNode {
  const instance = registry.instances.find((i) => i.workload === workload && i.namespace === namespace);
  if (!instance) throw new Error(`no instance of workload ${namespace}/${workload}`);
  return { ...proxyNodeFor(instance), role };
}

/** `# proxy: <role> <workload> <namespace>` header lines of a case file. */
export function proxyHeaders(text: string): { role: ProxyRole; workload: string; namespace: string }[] {
  const out: { role: ProxyRole; workload: string; namespace: string }[] = [];
  for (const m of text.matchAll(/^# proxy: (sidecar|ingress-gateway|egress-gateway) (\S+) (\S+)\s*$/gm)) {
    out.push({ role: m[1] as ProxyRole, workload: m[2] as string, namespace: m[3] as string });
  }
  return out;
}

const REDACTED = '[redacted]';

/** One YAML document per config; PEM material never reaches a golden file. */
export function renderGolden(configs: readonly ProxyConfig[]): string {
  return configs.map((c) => stringify(redact(c), { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

export function renderErrors(errors: readonly string[]): string {
  return stringify({ errors: [...errors] }, { lineWidth: 0 });
}

function redact(config: ProxyConfig): ProxyConfig {
  return {
    ...config,
    secrets: config.secrets.map((s) => ({
      name: s.name,
      ...(s.certificateChain ? { certificateChain: REDACTED } : {}),
      ...(s.privateKey ? { privateKey: REDACTED } : {}),
      ...(s.trustedCa ? { trustedCa: REDACTED } : {}),
    })),
  };
}
