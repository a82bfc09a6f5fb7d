import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const namespaceSpec = z.record(z.string(), z.unknown());
export type NamespaceSpec = z.output<typeof namespaceSpec>;

export const namespaceKind = defineKind({
  kind: 'Namespace',
  group: '',
  versions: ['v1'],
  namespaced: false,
  spec: namespaceSpec,
  emptySpec: {},
});
