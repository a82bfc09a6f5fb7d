/**
 * The mTLS mode a workload's inbound port accepts (ISTIO-SEMANTICS §7, Istio's
 * ComposePeerAuthentication): the mesh policy (root namespace, no selector), overridden by the
 * namespace policy, then by a workload policy (selector, not in the root namespace), then by its
 * portLevelMtls entry for the port. UNSET never overrides; the oldest policy wins at each level;
 * with no policy at all the mode is PERMISSIVE.
 */
import type { ResourceOf } from '../../resources/index.js';
import { labelsMatch, type MeshOptions } from '../../registry/index.js';

type PeerAuthentication = ResourceOf<'PeerAuthentication'>;
export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface PeerAuthnPolicy {
  mode: MtlsMode;
  /** Per workload port, where the workload policy sets one. */
  ports: Map<number, MtlsMode>;
}

export function peerAuthnPolicy(policies: readonly PeerAuthentication[], mesh: MeshOptions, namespace: string, labels: Record<string, string>): PeerAuthnPolicy {
  const hasSelector = (p: PeerAuthentication) => Object.keys(p.spec.selector?.matchLabels ?? {}).length > 0;
  const meshPolicy = policies.find((p) => p.metadata.namespace === mesh.rootNamespace && !hasSelector(p));
  const nsPolicy = namespace === mesh.rootNamespace ? undefined : policies.find((p) => p.metadata.namespace === namespace && !hasSelector(p));
  const workload = namespace === mesh.rootNamespace ? undefined
    : policies.find((p) => p.metadata.namespace === namespace && hasSelector(p) && labelsMatch(p.spec.selector?.matchLabels, labels));
  let mode: MtlsMode = 'PERMISSIVE';
  for (const p of [meshPolicy, nsPolicy, workload]) {
    const m = p?.spec.mtls?.mode;
    if (m && m !== 'UNSET') mode = m;
  }
  const ports = new Map<number, MtlsMode>();
  for (const [port, setting] of Object.entries(workload?.spec.portLevelMtls ?? {})) {
    if (setting.mode && setting.mode !== 'UNSET') ports.set(Number(port), setting.mode);
  }
  return { mode, ports };
}
