/**
 * Kubernetes' PodSpec and PodTemplateSpec (core/v1). Every field name Kubernetes has is accepted,
 * so manifests written for a cluster apply unchanged; the fields the local runtime acts on
 * (containers, service account, host network, restart and termination) are typed and checked,
 * the others (volumes, affinity, tolerations, ...) are kept as written.
 */
import { z, objectMeta, stringMap } from '../schema.js';
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { container, looseObject, validateContainer, dns1123LabelProblem, dns1123SubdomainProblem, type Container } from './container.js';

const loose = looseObject.optional();
const looseList = z.array(looseObject).optional();

export const podSpec = z.strictObject({
  containers: z.array(container),
  initContainers: z.array(container).optional(),
  serviceAccountName: z.string().optional(),
  /** @deprecated DeprecatedServiceAccount: an alias of serviceAccountName, used when that is empty. */
  serviceAccount: z.string().optional(),
  automountServiceAccountToken: z.boolean().optional(),
  hostNetwork: z.boolean().default(false),
  terminationGracePeriodSeconds: z.number().int().default(30),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).default('Always'),
  activeDeadlineSeconds: z.number().int().optional(),
  dnsPolicy: z.enum(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']).optional(),
  nodeSelector: stringMap.optional(),
  nodeName: z.string().optional(),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  hostUsers: z.boolean().optional(),
  shareProcessNamespace: z.boolean().optional(),
  hostname: z.string().optional(),
  hostnameOverride: z.string().optional(),
  subdomain: z.string().optional(),
  setHostnameAsFQDN: z.boolean().optional(),
  schedulerName: z.string().optional(),
  priorityClassName: z.string().optional(),
  priority: z.number().int().optional(),
  preemptionPolicy: z.enum(['PreemptLowerPriority', 'Never']).optional(),
  runtimeClassName: z.string().optional(),
  enableServiceLinks: z.boolean().optional(),
  // Accepted as written: scheduling, storage and security details the local runtime does not use.
  volumes: looseList,
  ephemeralContainers: looseList,
  securityContext: loose,
  imagePullSecrets: looseList,
  affinity: loose,
  tolerations: looseList,
  hostAliases: looseList,
  dnsConfig: loose,
  readinessGates: looseList,
  overhead: loose,
  topologySpreadConstraints: looseList,
  os: loose,
  schedulingGates: looseList,
  resourceClaims: looseList,
  resources: loose,
}).transform((spec) => ({
  ...spec,
  // The API server copies the deprecated alias, and the ServiceAccount admission plugin fills in
  // `default`, before a pod exists; consumers (downward API, identities) see the result.
  serviceAccountName: spec.serviceAccountName || spec.serviceAccount || 'default',
}));
export type PodSpec = z.output<typeof podSpec>;

export const podTemplateSpec = z.strictObject({
  metadata: objectMeta.optional(),
  spec: podSpec,
});
export type PodTemplateSpec = z.output<typeof podTemplateSpec>;

/** ValidatePodSpec's checks that matter for pods the local runtime starts; `path` leads to the PodSpec. */
export function validatePodSpec(spec: PodSpec, path: FieldPath, ctx: ValidationContext): void {
  if (spec.containers.length === 0) ctx.error([...path, 'containers'], 'a pod needs at least one container');

  const volumes = new Set<string>();
  spec.volumes?.forEach((v, i) => {
    const name = v.name;
    if (typeof name !== 'string' || name === '') {
      ctx.error([...path, 'volumes', i, 'name'], 'missing required field "name"');
      return;
    }
    const bad = dns1123LabelProblem(name, 'volume name');
    if (bad) ctx.error([...path, 'volumes', i, 'name'], bad);
    else if (volumes.has(name)) ctx.error([...path, 'volumes', i, 'name'], `duplicate volume name ${JSON.stringify(name)}`);
    volumes.add(name);
  });

  const names = new Set<string>();
  const each = (list: readonly Container[] | undefined, field: string, init: boolean) => {
    list?.forEach((c, i) => {
      const at = [...path, field, i];
      if (names.has(c.name)) ctx.error([...at, 'name'], `duplicate container name ${JSON.stringify(c.name)}: container names must be unique in a pod`);
      names.add(c.name);
      validateContainer(c, at, ctx, { init, hostNetwork: spec.hostNetwork, volumes });
    });
  };
  each(spec.initContainers, 'initContainers', true);
  each(spec.containers, 'containers', false);

  for (const field of ['serviceAccountName', 'serviceAccount'] as const) {
    const name = field === 'serviceAccountName' ? spec.serviceAccountName : spec.serviceAccount;
    const bad = name ? dns1123SubdomainProblem(name, 'service account name') : undefined;
    if (bad) ctx.error([...path, field], bad);
  }
  if (spec.terminationGracePeriodSeconds < 0) {
    ctx.warning([...path, 'terminationGracePeriodSeconds'], 'must be >= 0; negative values are invalid and will be treated as 1');
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds <= 0) {
    ctx.error([...path, 'activeDeadlineSeconds'], 'must be between 1 and 2147483647, inclusive');
  }
}
