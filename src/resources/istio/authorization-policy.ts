import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const authorizationPolicySpec = z.record(z.string(), z.unknown());
export type AuthorizationPolicySpec = z.output<typeof authorizationPolicySpec>;

export const authorizationPolicyKind = defineKind({
  kind: 'AuthorizationPolicy',
  group: 'security.istio.io',
  versions: ['v1beta1', 'v1'],
  namespaced: true,
  spec: authorizationPolicySpec,
  emptySpec: {},
});
