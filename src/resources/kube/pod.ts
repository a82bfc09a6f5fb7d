/**
 * Kubernetes' Pod (core/v1). In the local runtime pods are never applied by users: the runtime's
 * deployment controller creates them and writes each running pod (with its status) to the store,
 * so the control plane sees real pods, their addresses and readiness, as istiod watches Pods.
 * The schema is the PodSpec a Deployment's template carries plus the status fields Weft reports.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z } from '../schema.js';
import { looseObject } from './container.js';
import { podSpec, validatePodSpec, type PodSpec } from './pod-spec.js';

const containerStatus = z.strictObject({
  name: z.string(),
  ready: z.boolean(),
  restartCount: z.number().int().min(0),
  started: z.boolean().optional(),
  image: z.string().optional(),
  imageID: z.string().optional(),
  containerID: z.string().optional(),
  state: looseObject.optional(),
  lastState: looseObject.optional(),
});
export type ContainerStatus = z.output<typeof containerStatus>;

const podCondition = z.strictObject({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  lastProbeTime: z.union([z.string(), z.null()]).optional(),
  lastTransitionTime: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export const podStatus = z.strictObject({
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
  conditions: z.array(podCondition).optional(),
  podIP: z.string().optional(),
  podIPs: z.array(z.strictObject({ ip: z.string() })).optional(),
  hostIP: z.string().optional(),
  hostIPs: z.array(z.strictObject({ ip: z.string() })).optional(),
  startTime: z.string().optional(),
  containerStatuses: z.array(containerStatus).optional(),
  initContainerStatuses: z.array(containerStatus).optional(),
  qosClass: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
});
export type PodStatus = z.output<typeof podStatus>;

export type { PodSpec };

export const podKind = defineKind({
  kind: 'Pod',
  group: '',
  versions: ['v1'],
  namespaced: true,
  spec: podSpec,
  topLevel: { status: podStatus.optional() },
  validate: (spec: PodSpec, ctx: ValidationContext) => validatePodSpec(spec, [], ctx),
});
