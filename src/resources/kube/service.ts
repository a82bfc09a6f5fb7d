import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const serviceSpec = z.record(z.string(), z.unknown());
export type ServiceSpec = z.output<typeof serviceSpec>;

export const serviceKind = defineKind({
  kind: 'Service',
  group: '',
  versions: ['v1'],
  namespaced: true,
  spec: serviceSpec,
  emptySpec: {},
});
