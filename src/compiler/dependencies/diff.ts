/**
 * The resource side of a change: which DestinationRules, Gateways, Sidecars and security policies
 * differ between two resource sets (added, removed or edited; both versions of an edited one are
 * returned, since a proxy the old version applied to is affected as much as one the new version
 * applies to). Compared by content, so a source that re-reads every file yields only real edits.
 */
import type { AnyResource, ResourceOf } from '../../resources/index.js';
import { resolveHost } from '../../resources/index.js';
import type { MeshOptions } from '../../registry/index.js';

export interface PolicyChange {
  kind: 'PeerAuthentication' | 'RequestAuthentication' | 'AuthorizationPolicy' | 'Telemetry';
  namespace: string;
  /** matchLabels; undefined or empty selects the whole namespace (every namespace from the root). */
  selector?: Record<string, string>;
  /** Attached by targetRef(s) instead of a selector: treated as covering the whole namespace. */
  targeted: boolean;
}

export interface ChangedResources {
  destinationRules: (ResourceOf<'DestinationRule'> & { host: string })[];
  gateways: ResourceOf<'Gateway'>[];
  sidecars: ResourceOf<'Sidecar'>[];
  policies: PolicyChange[];
  /** Kinds that changed whose effect on proxies is not known here: every proxy must be recompiled. */
  unknownKinds: string[];
}

const KINDS = new Set(['DestinationRule', 'Gateway', 'Sidecar', 'PeerAuthentication', 'RequestAuthentication', 'AuthorizationPolicy', 'Telemetry']);
/**
 * Kinds whose changes reach proxies through the registry or the mesh options, both diffed by
 * content in dependencies.ts (Services, ServiceEntries, WorkloadEntries, Pods; IstioOperator,
 * Telemetry's tracing), through the VirtualService index (diffed there), or not at all (the
 * compiler never reads Namespaces, ServiceAccounts or Deployments: instances are the Pods). Any
 * other kind that changes recompiles every proxy, so a kind the compiler learns to read later is
 * safe before its dependency rule is written.
 */
const INDIRECT = new Set(['Service', 'ServiceEntry', 'WorkloadEntry', 'Pod', 'IstioOperator', 'VirtualService', 'Namespace', 'ServiceAccount', 'Deployment']);

export function changedResources(prev: readonly AnyResource[], next: readonly AnyResource[], mesh: Pick<MeshOptions, 'domainSuffix'>): ChangedResources {
  const index = (list: readonly AnyResource[]) => {
    const out = new Map<string, AnyResource[]>();
    for (const r of list) {
      if (INDIRECT.has(r.kind)) continue;
      const key = `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
      out.set(key, [...(out.get(key) ?? []), r]);
    }
    return out;
  };
  const before = index(prev);
  const after = index(next);
  const changed: AnyResource[] = [];
  for (const [key, olds] of before) {
    const news = after.get(key) ?? [];
    if (olds.length !== news.length || olds.some((r, i) => r !== news[i] && contentOf(r) !== contentOf(news[i] as AnyResource))) changed.push(...olds, ...news);
  }
  for (const [key, news] of after) if (!before.has(key)) changed.push(...news);

  const out: ChangedResources = { destinationRules: [], gateways: [], sidecars: [], policies: [], unknownKinds: [] };
  for (const r of changed) {
    switch (r.kind) {
      case 'DestinationRule':
        out.destinationRules.push({ ...r, host: resolveHost(r.spec.host, r.metadata.namespace, mesh.domainSuffix) });
        break;
      case 'Gateway':
        out.gateways.push(r);
        break;
      case 'Sidecar':
        out.sidecars.push(r);
        break;
      case 'PeerAuthentication':
      case 'RequestAuthentication':
      case 'AuthorizationPolicy':
      case 'Telemetry': {
        const spec = r.spec as { selector?: { matchLabels?: Record<string, string> }; targetRef?: unknown; targetRefs?: unknown[] };
        const selector = spec.selector?.matchLabels;
        out.policies.push({ kind: r.kind, namespace: r.metadata.namespace, ...(selector ? { selector } : {}), targeted: spec.targetRef !== undefined || (spec.targetRefs?.length ?? 0) > 0 });
        break;
      }
      default:
        if (!KINDS.has(r.kind)) out.unknownKinds.push(r.kind);
        break;
    }
  }
  return out;
}

/** What the compiler can read of a resource: its metadata and typed spec. */
function contentOf(r: AnyResource): string {
  return fingerprint([r.metadata, r.spec]);
}

/** Canonical-enough JSON for equality: Sets and Maps as arrays (JSON.stringify drops their content). */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Set ? [...(v as Set<unknown>)].sort() : v instanceof Map ? [...(v as Map<unknown, unknown>).entries()] : v));
}
