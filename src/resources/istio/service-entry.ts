import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const serviceEntrySpec = z.record(z.string(), z.unknown());
export type ServiceEntrySpec = z.output<typeof serviceEntrySpec>;

export const serviceEntryKind = defineKind({
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: serviceEntrySpec,
  emptySpec: {},
});
