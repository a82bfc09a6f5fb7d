import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const requestAuthenticationSpec = z.record(z.string(), z.unknown());
export type RequestAuthenticationSpec = z.output<typeof requestAuthenticationSpec>;

export const requestAuthenticationKind = defineKind({
  kind: 'RequestAuthentication',
  group: 'security.istio.io',
  versions: ['v1beta1', 'v1'],
  namespaced: true,
  spec: requestAuthenticationSpec,
  emptySpec: {},
});
