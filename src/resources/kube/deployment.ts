import { defineKind } from '../resource.js';
import { z } from '../schema.js';

// Placeholder schema: replaced by the full model of this kind.
export const deploymentSpec = z.record(z.string(), z.unknown());
export type DeploymentSpec = z.output<typeof deploymentSpec>;

export const deploymentKind = defineKind({
  kind: 'Deployment',
  group: 'apps',
  versions: ['v1'],
  namespaced: true,
  spec: deploymentSpec,
  emptySpec: {},
});
