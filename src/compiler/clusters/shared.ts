/**
 * Outbound clusters shared between proxies. A cluster (and its load assignment) for a service
 * port and subset depends only on the snapshot and on which merged DestinationRule the proxy's
 * lookup finds, so every proxy that finds the same rule gets the same objects: built once per
 * snapshot, not once per proxy (in an open mesh a thousand sidecars share one per service port).
 * They are frozen, so no proxy's compile can change another's, and so distribution may cache
 * their serialised form by identity. The output is the same as building them afresh: the
 * compiler stays a pure function of (snapshot, proxy).
 */
import type { Cluster, ClusterLoadAssignment, HashPolicy } from '../../proxy-config/index.js';
import type { LocalityContext } from '../endpoints/locality.js';
import type { EffectivePolicy } from './traffic-policy.js';
import type { Service } from '../../registry/index.js';
import type { Snapshot } from '../snapshot.js';
import type { MergedDestinationRule } from '../snapshot/destination-rules.js';

export interface BuiltCluster {
  cluster: Cluster;
  /** Without locality load balancing; undefined for a passthrough cluster. */
  assignment: ClusterLoadAssignment | undefined;
  hash: HashPolicy | undefined;
  policy: EffectivePolicy | undefined;
  /** The assignment weighted for one proxy's locality (localityAssignment shares it where it can). */
  assign?: (locality: LocalityContext) => ClusterLoadAssignment;
  /** Weighted assignments by the proxy inputs they read; see localityAssignment. */
  byLocality?: Map<string, ClusterLoadAssignment>;
}

/**
 * The assignment with locality load balancing for this proxy. applyLocalityLb (endpoints/locality.ts)
 * reads, of the proxy, its locality, and its labels only for failoverPriority: so proxies in one
 * locality share one (frozen) assignment, unless failoverPriority is in play, where it is built
 * afresh (keyed by every proxy's labels the memo would grow with proxies and outlive the compile).
 */
export function localityAssignment(built: BuiltCluster, locality: LocalityContext): ClusterLoadAssignment | undefined {
  if (!built.assign) return built.assignment;
  if (readsProxyLabels(locality)) return built.assign(locality);
  built.byLocality ??= new Map();
  let assignment = built.byLocality.get(locality.proxyLocality);
  if (!assignment) {
    assignment = deepFreeze(built.assign(locality));
    built.byLocality.set(locality.proxyLocality, assignment);
  }
  return assignment;
}

/** Whether applyLocalityLb reads the proxy's labels (failoverPriority), not only its locality. */
export function readsProxyLabels(locality: LocalityContext): boolean {
  const { setting } = locality;
  return locality.enableFailover && (setting.distribute?.length ?? 0) === 0 && (setting.failoverPriority?.length ?? 0) > 0;
}

interface Memo {
  /** A number per merged rule, for the key; `0` is "no rule". */
  readonly rules: Map<MergedDestinationRule, number>;
  readonly byService: WeakMap<Service, Map<string, BuiltCluster>>;
}

const memos = new WeakMap<Snapshot, Memo>();

/** The cluster for (service, port, subset, rule) in this snapshot, built by `build` the first time. */
export function sharedCluster(
  snapshot: Snapshot, service: Service, port: number, subset: string | undefined, rule: MergedDestinationRule | undefined, build: () => BuiltCluster,
): BuiltCluster {
  let memo = memos.get(snapshot);
  if (!memo) {
    memo = { rules: new Map(), byService: new WeakMap() };
    memos.set(snapshot, memo);
  }
  let ruleId = 0;
  if (rule) {
    ruleId = memo.rules.get(rule) ?? memo.rules.size + 1;
    memo.rules.set(rule, ruleId);
  }
  let clusters = memo.byService.get(service);
  if (!clusters) {
    clusters = new Map();
    memo.byService.set(service, clusters);
  }
  // Subset names come from the rule, so (rule, subset name) names the subset; a duplicated name
  // yields the first one's cluster, as the cluster set keeps the first cluster of a name anyway.
  const key = `${port}|${ruleId}|${subset === undefined ? '' : `=${subset}`}`;
  let built = clusters.get(key);
  if (!built) {
    const fresh = build();
    built = { ...fresh, cluster: deepFreeze(fresh.cluster), assignment: fresh.assignment && deepFreeze(fresh.assignment) };
    clusters.set(key, built);
  }
  return built;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
