import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const serviceAccountSpec = z.record(z.string(), z.unknown());
export type ServiceAccountSpec = z.output<typeof serviceAccountSpec>;

export const serviceAccountKind = defineKind({
  kind: 'ServiceAccount',
  group: '',
  versions: ['v1'],
  namespaced: true,
  spec: serviceAccountSpec,
  emptySpec: {},
});
