/**
 * How RequestAuthentication, AuthorizationPolicy and Telemetry pick the workloads they apply to:
 * a workload `selector` or `targetRef(s)` to a Gateway, GatewayClass, Service or ServiceEntry,
 * never both, with Istio's checks (validateOneOfSelectorType, validatePolicyTargetReference).
 */
import type { ValidationContext } from '../resource.js';
import { z, workloadSelector } from '../schema.js';

const TARGET_GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TARGET_KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** Istio's PolicyTargetReference, with the CRD's field rules. */
export const policyTargetRef = z.strictObject({
  group: z.string().max(253).regex(TARGET_GROUP, 'group must be empty or a lowercase DNS subdomain').optional(),
  kind: z.string().min(1, 'kind must not be empty').max(63).regex(TARGET_KIND, 'kind must start with a letter and contain only letters, digits and "-"'),
  name: z.string().min(1, 'name must not be empty').max(253),
  namespace: z.string().optional(),
});
export type PolicyTargetReference = z.output<typeof policyTargetRef>;
export type WorkloadSelector = z.output<typeof workloadSelector>;

export const policyTargetRefs = z.array(policyTargetRef).max(16);

/** The kinds a policy may target (Istio's allowedTargetRefs), by canonical group. */
const ALLOWED_TARGETS: ReadonlyArray<{ group: string; kind: string }> = [
  { group: 'core', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
  { group: 'gateway.networking.k8s.io', kind: 'GatewayClass' },
];

interface PolicyScope {
  selector?: WorkloadSelector | undefined;
  targetRef?: PolicyTargetReference | undefined;
  targetRefs?: PolicyTargetReference[] | undefined;
}

/**
 * Istio's validateOneOfSelectorType, validateWorkloadSelector and validatePolicyTargetReference:
 * a policy is scoped by a selector or by target references, never both.
 */
export function checkPolicyScope(spec: PolicyScope, ctx: ValidationContext): void {
  const set: string[] = [];
  if (spec.selector !== undefined) set.push('selector');
  if (spec.targetRef !== undefined) set.push('targetRef');
  if (spec.targetRefs !== undefined && spec.targetRefs.length > 0) set.push('targetRefs');
  if (set.length > 1) {
    ctx.error([set[1] as string], `only one of targetRefs or workloadSelector can be set (found ${set.join(' and ')})`);
  }
  if (spec.selector !== undefined && Object.keys(spec.selector.matchLabels ?? {}).length === 0) {
    ctx.warning(['selector'], 'workload selector specified without labels');
  }
  if (spec.targetRef) checkTargetRef(spec.targetRef, ['targetRef'], ctx);
  spec.targetRefs?.forEach((ref, i) => checkTargetRef(ref, ['targetRefs', i], ctx));
}

function checkTargetRef(ref: PolicyTargetReference, path: (string | number)[], ctx: ValidationContext): void {
  if (ref.namespace !== undefined && ref.namespace !== '') {
    ctx.error([...path, 'namespace'], 'targetRef namespace must not be set; cross namespace referencing is not supported');
  }
  const group = ref.group === undefined || ref.group === '' ? 'core' : ref.group;
  if (!ALLOWED_TARGETS.some((t) => t.group === group && t.kind === ref.kind)) {
    ctx.error([...path, 'kind'],
      `targetRef must refer to a Gateway or GatewayClass (gateway.networking.k8s.io), a Service (core) or a ServiceEntry (networking.istio.io), but was ${ref.group ?? ''}/${ref.kind}`);
  }
}
