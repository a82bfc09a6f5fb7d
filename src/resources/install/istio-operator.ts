import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const istioOperatorSpec = z.record(z.string(), z.unknown());
export type IstioOperatorSpec = z.output<typeof istioOperatorSpec>;

export const istioOperatorKind = defineKind({
  kind: 'IstioOperator',
  group: 'install.istio.io',
  versions: ['v1alpha1'],
  namespaced: true,
  spec: istioOperatorSpec,
  emptySpec: {},
});
