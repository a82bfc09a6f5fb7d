/**
 * Gateways and Sidecars as the per-proxy step needs them: which Gateways configure a gateway pod
 * (selector over its labels, in any namespace, ISTIO-SEMANTICS §4), and which Sidecar scopes a
 * workload (one selecting it in its namespace, oldest first; else its namespace's default; else
 * the root namespace's default).
 */
import type { AnyResource, ResourceOf } from '../../resources/index.js';
import { labelsMatch, type MeshOptions } from '../../registry/index.js';
import { compareConfigs } from './order.js';

export type Gateway = ResourceOf<'Gateway'>;
export type Sidecar = ResourceOf<'Sidecar'>;

export interface GatewayIndex {
  forProxy(labels: Record<string, string>): Gateway[];
}

export interface SidecarIndex {
  forProxy(namespace: string, labels: Record<string, string>): Sidecar | undefined;
}

export function indexGateways(resources: readonly AnyResource[]): GatewayIndex {
  const gateways = resources.filter((r): r is Gateway => r.kind === 'Gateway').sort(compareConfigs);
  return { forProxy: (labels) => gateways.filter((g) => labelsMatch(g.spec.selector, labels)) };
}

export function indexSidecars(resources: readonly AnyResource[], mesh: MeshOptions): SidecarIndex {
  const sidecars = resources.filter((r): r is Sidecar => r.kind === 'Sidecar').sort(compareConfigs);
  const defaultIn = (ns: string) => sidecars.find((s) => s.metadata.namespace === ns && !s.spec.workloadSelector?.labels);
  return {
    forProxy(namespace, labels) {
      const selecting = sidecars.find((s) => s.metadata.namespace === namespace && s.spec.workloadSelector?.labels && labelsMatch(s.spec.workloadSelector.labels, labels));
      return selecting ?? defaultIn(namespace) ?? defaultIn(mesh.rootNamespace);
    },
  };
}
