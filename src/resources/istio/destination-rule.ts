import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const destinationRuleSpec = z.record(z.string(), z.unknown());
export type DestinationRuleSpec = z.output<typeof destinationRuleSpec>;

export const destinationRuleKind = defineKind({
  kind: 'DestinationRule',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: destinationRuleSpec,
  emptySpec: {},
});
