/**
 * What the dashboard's pages show, assembled from what the control plane already holds: the Pod
 * objects the runtime writes (READY, STATUS, RESTARTS, as `weft get pods` prints them), the push
 * server's status per proxy (as `weft proxy-status`), and the applied resources with the
 * `weft analyze` messages about each. Plain data in, plain JSON out, so each is tested alone.
 */
import type { AnyResource } from '../resources/index.js';
import { analyzeResources } from '../resources/index.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import type { ProxyStatus } from '../distribution/index.js';
import { podStatusText } from '../runtime/pods/object.js';

export interface WorkloadRow {
  namespace: string;
  name: string;
  /** `2/2`: ready containers over containers, as kubectl counts them. */
  ready: string;
  status: string;
  restarts: number;
  ip: string | null;
  createdAt: string | null;
  app: string | null;
  version: string | null;
  /** The sidecar's (or gateway's) stream; null for a pod without a connected proxy. */
  proxy: { nodeId: string; state: ProxyStatus['state']; version: string | null; replica: string; revision: string; nack: string | null } | null;
}

export interface ConfigRow {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  /** `file:line` the resource came from, when it came from a file. */
  source: string | null;
  messages: { code: string; level: Diagnostic['level']; message: string; path: string | null }[];
}

interface PodObject {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: { containers?: unknown[] };
  status?: { podIP?: string; containerStatuses?: { ready: boolean; restartCount: number }[] };
}

/** Pods as `weft get pods` shows them, joined with the proxy that connected for each. */
export function workloadRows(resources: readonly AnyResource[], proxies: readonly ProxyStatus[], namespace?: string): WorkloadRow[] {
  const byNode = new Map(proxies.map((p) => [p.nodeId, p]));
  const rows: WorkloadRow[] = [];
  for (const r of resources) {
    if (r.kind !== 'Pod' || (namespace !== undefined && r.metadata.namespace !== namespace)) continue;
    const pod = r.raw as PodObject;
    const cs = pod.status?.containerStatuses ?? [];
    const total = Math.max(cs.length, pod.spec?.containers?.length ?? 0);
    // A proxy's node id is `<pod>.<namespace>` (the runtime names it so).
    const p = byNode.get(`${r.metadata.name}.${r.metadata.namespace}`);
    rows.push({
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      ready: `${cs.filter((c) => c.ready).length}/${total}`,
      status: podStatusText(r.raw),
      restarts: cs.reduce((n, c) => n + c.restartCount, 0),
      ip: pod.status?.podIP ?? null,
      createdAt: pod.metadata?.creationTimestamp ?? null,
      app: r.metadata.labels?.app ?? null,
      version: r.metadata.labels?.version ?? null,
      proxy: p
        ? { nodeId: p.nodeId, state: p.state, version: p.ackedVersion ?? p.sentVersion ?? null, replica: p.replica, revision: p.revision || 'default', nack: p.nackedVersion ? `NACK ${p.nackedVersion}: ${p.nackError ?? ''}` : null }
        : null,
    });
  }
  return rows.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
}

/** Kinds the Config page leaves out: the runtime's own Pod objects are the Workloads page. */
const NOT_CONFIG = new Set(['Pod']);

/** Applied resources (all but Pods) with the analyzer's messages about each; the analysis runs over the whole set. */
export function configRows(resources: readonly AnyResource[], namespace?: string): { rows: ConfigRow[]; unattached: ConfigRow['messages'] } {
  const diagnostics = analyzeResources(resources);
  const key = (kind: string, ns: string | undefined, name: string) => `${kind}\u0000${ns ?? ''}\u0000${name}`;
  const byResource = new Map<string, Diagnostic[]>();
  const unattached: ConfigRow['messages'] = [];
  for (const d of diagnostics) {
    if (!d.origin) {
      unattached.push(message(d));
      continue;
    }
    const k = key(d.origin.kind, d.origin.namespace, d.origin.name);
    byResource.set(k, [...(byResource.get(k) ?? []), d]);
  }
  const rows: ConfigRow[] = [];
  for (const r of resources) {
    if (NOT_CONFIG.has(r.kind) || (namespace !== undefined && r.metadata.namespace !== namespace)) continue;
    const found = byResource.get(key(r.kind, r.metadata.namespace || undefined, r.metadata.name)) ?? byResource.get(key(r.kind, r.metadata.namespace, r.metadata.name)) ?? [];
    rows.push({
      kind: r.kind,
      apiVersion: r.apiVersion,
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      source: r.source ? `${r.source.file}:${r.source.start.line}` : null,
      messages: found.map(message),
    });
  }
  rows.sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.kind, b.kind) || cmp(a.name, b.name));
  return { rows, unattached };
}

/**
 * One resource as applied (its raw object), or undefined. Pods are not config and are not shown.
 * Container environment values whose names say they are secret are replaced: a Deployment may
 * carry one inline, and the page is no place to read it.
 */
export function configObject(resources: readonly AnyResource[], kind: string, namespace: string, name: string): Record<string, unknown> | undefined {
  const r = resources.find((x) => x.kind === kind && x.metadata.namespace === namespace && x.metadata.name === name && !NOT_CONFIG.has(x.kind));
  return r ? (redactEnv(structuredClone(r.raw)) as Record<string, unknown>) : undefined;
}

const SECRET_NAME = /secret|token|passw|credential|api[-_]?key|private[-_]?key|auth/i;

function redactEnv(value: unknown): unknown {
  if (Array.isArray(value)) value.forEach(redactEnv);
  else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.env)) {
      for (const e of o.env as { name?: unknown; value?: unknown }[]) if (typeof e?.name === 'string' && typeof e.value === 'string' && SECRET_NAME.test(e.name)) e.value = '[redacted]';
    }
    for (const v of Object.values(o)) redactEnv(v);
  }
  return value;
}

/** Every namespace that holds a pod or a resource, sorted ('' for cluster-scoped kinds left out). */
export function namespacesOf(resources: readonly AnyResource[]): string[] {
  const all = new Set<string>();
  for (const r of resources) {
    if (r.kind === 'Namespace') all.add(r.metadata.name);
    else if (r.metadata.namespace) all.add(r.metadata.namespace);
  }
  return [...all].sort();
}

function message(d: Diagnostic): ConfigRow['messages'][number] {
  return { code: d.code, level: d.level, message: d.message, path: d.location?.path || null };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
