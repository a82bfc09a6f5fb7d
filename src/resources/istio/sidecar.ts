import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const sidecarSpec = z.record(z.string(), z.unknown());
export type SidecarSpec = z.output<typeof sidecarSpec>;

export const sidecarKind = defineKind({
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: sidecarSpec,
  emptySpec: {},
});
