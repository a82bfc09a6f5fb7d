import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const peerAuthenticationSpec = z.record(z.string(), z.unknown());
export type PeerAuthenticationSpec = z.output<typeof peerAuthenticationSpec>;

export const peerAuthenticationKind = defineKind({
  kind: 'PeerAuthentication',
  group: 'security.istio.io',
  versions: ['v1beta1', 'v1'],
  namespaced: true,
  spec: peerAuthenticationSpec,
  emptySpec: {},
});
