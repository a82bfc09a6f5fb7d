/**
 * A sidecar's whole outbound side (built-in and outbound clusters with their endpoints, outbound
 * listeners, outbound route tables) shared by every proxy with the same outbound scope: built once
 * per snapshot and scope, frozen, and handed to each such proxy as is. In an open mesh a thousand
 * sidecars in one namespace get one outbound side, and distribution serialises it once.
 *
 * The scope key is everything the outbound builders read of the proxy, so sharing never changes a
 * config (shared-outbound.test.ts compiles with and without it and compares):
 *   - role, namespace and the Sidecar that applies (ProxyScope.visibilityKey): visible services,
 *     egress ports, VirtualServices, outbound traffic policy, `sourceNamespace` matches, domains;
 *   - which of the namespace's DestinationRule workloadSelectors select the proxy's labels;
 *   - which VirtualService `sourceLabels` (http, tcp, tls matches) select them;
 *   - the proxy's locality, and its labels, only where locality load balancing read them: the
 *     cluster set records that (ClusterSet.reads), and it is the same for every proxy of one key,
 *     as the same rules apply to the same clusters.
 * The mesh options and the registry are the snapshot's, hence the memo per snapshot.
 */
import type { Listener, RouteConfiguration } from '../proxy-config/index.js';
import { labelsMatch } from '../registry/index.js';
import type { Snapshot } from './snapshot.js';
import type { ProxyScope } from './scope.js';
import { ClusterSet, type ProxyInputs } from './clusters/cluster-set.js';
import { builtinClusters } from './clusters/builtin.js';
import { addOutboundClusters } from './clusters/outbound.js';
import { sidecarOutboundListeners } from './listeners/outbound.js';
import { sidecarRouteConfigs } from './routes/sidecar-routes.js';

export interface OutboundSide {
  /** Sealed: extend it (`new ClusterSet(clusters)`) for the proxy's own clusters. */
  readonly clusters: ClusterSet;
  /** In name order. */
  readonly listeners: readonly Listener[];
  /** In name order. */
  readonly routes: readonly RouteConfiguration[];
}

interface Slot {
  /** What the first build read beyond the key; undefined until built. */
  reads?: ProxyInputs;
  readonly byInputs: Map<string, OutboundSide>;
}

interface Memo {
  /** Every VirtualService `sourceLabels` selector, once each. */
  readonly sourceSelectors: readonly Record<string, string>[];
  readonly drSelectors: Map<string, readonly Record<string, string>[]>;
  readonly slots: Map<string, Slot>;
}

const memos = new WeakMap<Snapshot, Memo>();

/** The sidecar's outbound side, shared with every proxy of the same outbound scope in this snapshot. */
export function sharedOutbound(scope: ProxyScope): OutboundSide {
  const { snapshot, node } = scope;
  let memo = memos.get(snapshot);
  if (!memo) {
    memo = { sourceSelectors: sourceSelectors(snapshot), drSelectors: new Map(), slots: new Map() };
    memos.set(snapshot, memo);
  }
  let drSelectors = memo.drSelectors.get(node.namespace);
  if (!drSelectors) {
    drSelectors = snapshot.destinationRules.selectors(node.namespace);
    memo.drSelectors.set(node.namespace, drSelectors);
  }
  const key = `${scope.visibilityKey}|${selected(drSelectors, node.labels)}|${selected(memo.sourceSelectors, node.labels)}`;
  let slot = memo.slots.get(key);
  if (!slot) {
    slot = { byInputs: new Map() };
    memo.slots.set(key, slot);
  }
  if (!slot.reads) {
    const built = buildOutbound(scope);
    slot.reads = built.clusters.reads;
    slot.byInputs.set(inputsKey(scope, slot.reads), built);
    return built;
  }
  const inputs = inputsKey(scope, slot.reads);
  let side = slot.byInputs.get(inputs);
  if (!side) {
    side = buildOutbound(scope);
    slot.byInputs.set(inputs, side);
  }
  return side;
}

function buildOutbound(scope: ProxyScope): OutboundSide {
  const clusters = new ClusterSet();
  for (const c of builtinClusters(scope.snapshot.mesh, true)) clusters.add(c);
  addOutboundClusters(scope, clusters);
  const listeners = sidecarOutboundListeners(scope, clusters).map(deepFreeze);
  const routes = sidecarRouteConfigs(scope, clusters).sort(byName).map(deepFreeze);
  for (const e of clusters.endpoints()) deepFreeze(e);
  return { clusters: clusters.seal(), listeners: Object.freeze(listeners), routes: Object.freeze(routes) };
}

/** One bit per selector: whether it selects these labels. */
function selected(selectors: readonly Record<string, string>[], labels: Record<string, string>): string {
  let bits = '';
  for (const s of selectors) bits += labelsMatch(s, labels) ? '1' : '0';
  return bits;
}

function inputsKey(scope: ProxyScope, reads: ProxyInputs): string {
  const locality = reads.locality ? scope.node.locality ?? scope.instance?.locality ?? '' : '';
  const labels = reads.labels ? JSON.stringify(Object.entries(scope.node.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : '';
  return `${locality}|${labels}`;
}

function sourceSelectors(snapshot: Snapshot): Record<string, string>[] {
  const byText = new Map<string, Record<string, string>>();
  const add = (matches: readonly { sourceLabels?: Record<string, string> }[] | undefined) => {
    for (const m of matches ?? []) if (m.sourceLabels) byText.set(JSON.stringify(Object.entries(m.sourceLabels).sort()), m.sourceLabels);
  };
  for (const vs of snapshot.virtualServices.all) {
    for (const entry of vs.http) add(entry.route.match);
    for (const r of vs.resource.spec.tcp ?? []) add(r.match);
    for (const r of vs.resource.spec.tls ?? []) add(r.match);
  }
  return [...byText.values()];
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
