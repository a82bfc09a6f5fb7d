/**
 * DestinationRule (networking/v1alpha3/destination_rule.proto): what happens to traffic for a host
 * after routing: subsets, load balancing, connection pools, outlier detection and client TLS.
 * Validation is Istio's ValidateDestinationRule; the policy parts live in
 * destination-rule-traffic-policy.ts and destination-rule-load-balancer.ts.
 */
import { defineKind } from '../resource.js';
import { z, labels, workloadSelector } from '../schema.js';
import { trafficPolicy, checkTrafficPolicy } from './destination-rule-traffic-policy.js';
import { checkExportTo, isIstioDnsLabel, wildcardDomainProblem } from './networking-checks.js';

export * from './destination-rule-traffic-policy.js';
export * from './destination-rule-load-balancer.js';

export const subset = z.strictObject({
  name: z.string(),
  labels: labels.optional(),
  trafficPolicy: trafficPolicy.optional(),
});
export type Subset = z.output<typeof subset>;

export const destinationRuleSpec = z.strictObject({
  host: z.string(),
  trafficPolicy: trafficPolicy.optional(),
  subsets: z.array(subset).optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: workloadSelector.optional(),
});
export type DestinationRuleSpec = z.output<typeof destinationRuleSpec>;

export const destinationRuleKind = defineKind({
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: destinationRuleSpec,
  emptySpec: {},
  validate(spec, ctx) {
    const hostProblem = wildcardDomainProblem(spec.host);
    if (hostProblem) ctx.error(['host'], hostProblem);
    checkTrafficPolicy(ctx, ['trafficPolicy'], spec.trafficPolicy);

    const names = new Set<string>();
    spec.subsets?.forEach((s, i) => {
      if (names.has(s.name)) ctx.error(['subsets', i, 'name'], `duplicate subset names: ${s.name}`);
      names.add(s.name);
      if (s.name === '') ctx.error(['subsets', i, 'name'], 'subset name cannot be empty');
      else if (!isIstioDnsLabel(s.name)) ctx.error(['subsets', i, 'name'], `subset name is invalid: ${s.name}`);
      checkTrafficPolicy(ctx, ['subsets', i, 'trafficPolicy'], s.trafficPolicy);
    });

    checkExportTo(ctx, ['exportTo'], spec.exportTo, { destinationRuleWithSelector: spec.workloadSelector !== undefined });
    if (spec.workloadSelector && Object.keys(spec.workloadSelector.matchLabels ?? {}).length === 0) {
      ctx.warning(['workloadSelector'], 'workload selector specified without labels');
    }
  },
});
