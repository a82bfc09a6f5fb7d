/**
 * Kubernetes' Deployment (apps/v1): a pod template and how many copies of it to run. Checked as
 * the API server checks it (pkg/apis/apps/validation), so a manifest that applies here applies on
 * a cluster, and the local runtime only ever starts pods a cluster would start.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z, labels, labelValueProblem } from '../schema.js';
import type { FieldPath } from '../../lib/field-path.js';
import { intOrString, looseObject, qualifiedNameProblem } from './container.js';
import { podTemplateSpec, validatePodSpec } from './pod-spec.js';

export const labelSelectorRequirement = z.strictObject({
  key: z.string(),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});
export type LabelSelectorRequirement = z.output<typeof labelSelectorRequirement>;

/** metav1.LabelSelector: matchLabels and matchExpressions, all of which must hold. */
export const labelSelector = z.strictObject({
  matchLabels: labels.optional(),
  matchExpressions: z.array(labelSelectorRequirement).optional(),
});
export type LabelSelector = z.output<typeof labelSelector>;

/** Whether `labels` satisfy a selector (an empty selector matches everything, as in Kubernetes). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    const inValues = has && value !== undefined && (req.values ?? []).includes(value);
    const ok = req.operator === 'In' ? inValues
      : req.operator === 'NotIn' ? !inValues
      : req.operator === 'Exists' ? has
      : !has;
    if (!ok) return false;
  }
  return true;
}

const rollingUpdate = z.strictObject({ maxUnavailable: intOrString.optional(), maxSurge: intOrString.optional() });

export const deploymentStrategy = z.strictObject({
  type: z.enum(['Recreate', 'RollingUpdate']).default('RollingUpdate'),
  rollingUpdate: rollingUpdate.optional(),
});
export type DeploymentStrategy = z.output<typeof deploymentStrategy>;

export const deploymentSpec = z.strictObject({
  replicas: z.number().int().default(1),
  selector: labelSelector,
  template: podTemplateSpec,
  strategy: deploymentStrategy.default({ type: 'RollingUpdate' }),
  minReadySeconds: z.number().int().default(0),
  revisionHistoryLimit: z.number().int().default(10),
  progressDeadlineSeconds: z.number().int().default(600),
  paused: z.boolean().default(false),
});
export type DeploymentSpec = z.output<typeof deploymentSpec>;

/** Written by the controller; accepted so that `kubectl get -o yaml` output applies. */
const deploymentStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  replicas: z.number().int().optional(),
  updatedReplicas: z.number().int().optional(),
  readyReplicas: z.number().int().optional(),
  availableReplicas: z.number().int().optional(),
  unavailableReplicas: z.number().int().optional(),
  terminatingReplicas: z.number().int().optional(),
  conditions: z.array(looseObject).optional(),
  collisionCount: z.number().int().optional(),
});

export const deploymentKind = defineKind({
  kind: 'Deployment',
  group: 'apps',
  versions: ['v1'],
  namespaced: true,
  spec: deploymentSpec,
  topLevel: { status: deploymentStatus.optional() },
  validate: validateDeployment,
});

function validateDeployment(spec: DeploymentSpec, ctx: ValidationContext): void {
  for (const field of ['replicas', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds'] as const) {
    if (spec[field] < 0) ctx.error([field], `invalid value ${spec[field]}: must be greater than or equal to 0`);
  }
  if (spec.progressDeadlineSeconds <= spec.minReadySeconds && spec.progressDeadlineSeconds >= 0) {
    ctx.error(['progressDeadlineSeconds'], 'must be greater than minReadySeconds');
  }

  const selectorEmpty = Object.keys(spec.selector.matchLabels ?? {}).length === 0 && (spec.selector.matchExpressions ?? []).length === 0;
  const selectorOk = validateLabelSelector(spec.selector, ['selector'], ctx);
  if (selectorEmpty) ctx.error(['selector'], 'empty selector is invalid for deployment');
  else if (selectorOk && !selectorMatches(spec.selector, spec.template.metadata?.labels ?? {})) {
    ctx.error(['template', 'metadata', 'labels'], '`selector` does not match template `labels`');
  }

  const pod = spec.template.spec;
  validatePodSpec(pod, ['template', 'spec'], ctx);
  if (pod.restartPolicy !== 'Always') ctx.error(['template', 'spec', 'restartPolicy'], `unsupported value ${JSON.stringify(pod.restartPolicy)}; a Deployment's pods must use Always`);
  if (pod.activeDeadlineSeconds !== undefined) ctx.error(['template', 'spec', 'activeDeadlineSeconds'], 'activeDeadlineSeconds in ReplicaSet is not Supported');

  validateStrategy(spec.strategy, ctx);
}

/** ValidateLabelSelector; returns false when the selector cannot be evaluated. */
export function validateLabelSelector(selector: LabelSelector, path: FieldPath, ctx: ValidationContext): boolean {
  let ok = true;
  selector.matchExpressions?.forEach((req, i) => {
    const at = [...path, 'matchExpressions', i];
    const values = req.values ?? [];
    const keyProblem = qualifiedNameProblem(req.key, 'label key');
    if (keyProblem) {
      ctx.error([...at, 'key'], keyProblem);
      ok = false;
    }
    if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0) {
      ctx.error([...at, 'values'], "must be specified when `operator` is 'In' or 'NotIn'");
      ok = false;
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) {
      ctx.error([...at, 'values'], "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      ok = false;
    }
    values.forEach((v, j) => {
      const bad = labelValueProblem(v);
      if (bad) {
        ctx.error([...at, 'values', j], bad);
        ok = false;
      }
    });
  });
  return ok;
}

/** A rolling-update bound: a non-negative count or a percentage such as `25%`. */
function intOrPercent(value: number | string, path: FieldPath, ctx: ValidationContext, maxPercent?: number): number | undefined {
  if (typeof value === 'number') {
    if (value < 0) ctx.error(path, `invalid value ${value}: must be greater than or equal to 0`);
    return value;
  }
  const m = /^([0-9]+)%$/.exec(value);
  if (!m) {
    ctx.error(path, `invalid value ${JSON.stringify(value)}: must be an integer or a percentage (e.g. '5%')`);
    return undefined;
  }
  const percent = Number(m[1]);
  if (maxPercent !== undefined && percent > maxPercent) ctx.error(path, `invalid value ${JSON.stringify(value)}: must not be greater than 100%`);
  return percent;
}

function validateStrategy(strategy: DeploymentStrategy, ctx: ValidationContext): void {
  const r = strategy.rollingUpdate;
  if (strategy.type === 'Recreate') {
    if (r) ctx.error(['strategy', 'rollingUpdate'], "may not be specified when strategy `type` is 'Recreate'");
    return;
  }
  // Kubernetes defaults both bounds to 25%.
  const unavailable = intOrPercent(r?.maxUnavailable ?? '25%', ['strategy', 'rollingUpdate', 'maxUnavailable'], ctx, 100);
  const surge = intOrPercent(r?.maxSurge ?? '25%', ['strategy', 'rollingUpdate', 'maxSurge'], ctx);
  if (unavailable === 0 && surge === 0) ctx.error(['strategy', 'rollingUpdate', 'maxUnavailable'], 'may not be 0 when `maxSurge` is 0');
}
