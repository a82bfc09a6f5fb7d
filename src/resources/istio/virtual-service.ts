import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const virtualServiceSpec = z.record(z.string(), z.unknown());
export type VirtualServiceSpec = z.output<typeof virtualServiceSpec>;

export const virtualServiceKind = defineKind({
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: virtualServiceSpec,
  emptySpec: {},
});
