/**
 * PeerAuthentication (security.istio.io v1beta1 and v1): which mTLS mode a workload's inbound
 * traffic accepts. Schema from istio/api security/v1beta1/peer_authentication.proto and its CRD
 * rules; checks ported from ValidatePeerAuthentication in istio/istio
 * pkg/config/validation/validation.go.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z, workloadSelector } from '../schema.js';

export const mtlsMode = z.enum(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT']);
/** UNSET inherits from the parent scope (mesh -> namespace -> workload -> port); see ISTIO-SEMANTICS §7. */
export type MtlsMode = z.output<typeof mtlsMode>;

export const mutualTls = z.strictObject({ mode: mtlsMode.optional() });
export type MutualTls = z.output<typeof mutualTls>;

/**
 * The proto's map<uint32, MutualTLS>: YAML keys are strings, so each must be a port number
 * (the CRD's `0 < int(key) && int(key) <= 65535`). Keys are workload (container) ports.
 */
const portLevelMtls = z.record(z.string(), mutualTls).superRefine((map, ctx) => {
  for (const key of Object.keys(map)) {
    if (!/^\d+$/.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `port "${key}" is not a number: portLevelMtls keys must be port numbers` });
    else if (Number(key) < 1 || Number(key) > 65535) ctx.addIssue({ code: 'custom', path: [key], message: `port must be between 1-65535, got ${key}` });
  }
});

export const peerAuthenticationSpec = z.strictObject({
  selector: workloadSelector.optional(),
  mtls: mutualTls.optional(),
  /** Keyed by port number as a decimal string (validated to 1..65535). */
  portLevelMtls: portLevelMtls.optional(),
});
export type PeerAuthenticationSpec = z.output<typeof peerAuthenticationSpec>;

/** Istio's mesh root namespace unless meshConfig.rootNamespace says otherwise. */
const DEFAULT_ROOT_NAMESPACE = 'istio-system';

export function validatePeerAuthentication(spec: PeerAuthenticationSpec, ctx: ValidationContext): void {
  const labels = Object.keys(spec.selector?.matchLabels ?? {}).length;
  if (spec.selector !== undefined && labels === 0) ctx.warning(['selector'], 'workload selector specified without labels');
  if (spec.portLevelMtls !== undefined) {
    if (Object.keys(spec.portLevelMtls).length === 0) {
      ctx.error(['portLevelMtls'], 'port level mTLS, if defined, must have at least one element');
    } else if (labels === 0) {
      ctx.error(['portLevelMtls'], 'portLevelMtls requires selector: mesh/namespace peer authentication cannot have port level mTLS');
    }
  }
  // ComposePeerAuthentication (pilot/pkg/security/authn/policy_applier.go) skips workload
  // policies in the root namespace, so this one would silently do nothing.
  if (labels > 0 && ctx.namespace === DEFAULT_ROOT_NAMESPACE) {
    ctx.warning(['selector'],
      `a PeerAuthentication with a selector in the root namespace (${DEFAULT_ROOT_NAMESPACE}) is ignored; put it in the workload's namespace, or remove the selector to make it mesh-wide`);
  }
}

export const peerAuthenticationKind = defineKind({
  kind: 'PeerAuthentication',
  group: 'security.istio.io',
  versions: ['v1beta1', 'v1'],
  namespaced: true,
  spec: peerAuthenticationSpec,
  emptySpec: {},
  validate: validatePeerAuthentication,
});
