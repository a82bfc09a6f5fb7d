import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const gatewaySpec = z.record(z.string(), z.unknown());
export type GatewaySpec = z.output<typeof gatewaySpec>;

export const gatewayKind = defineKind({
  kind: 'Gateway',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: gatewaySpec,
  emptySpec: {},
});
