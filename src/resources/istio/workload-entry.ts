import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const workloadEntrySpec = z.record(z.string(), z.unknown());
export type WorkloadEntrySpec = z.output<typeof workloadEntrySpec>;

export const workloadEntryKind = defineKind({
  kind: 'WorkloadEntry',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: workloadEntrySpec,
  emptySpec: {},
});
