/**
 * Kubernetes' ServiceAccount (core/v1): a workload's identity. Istio derives the SPIFFE ID
 * `spiffe://<trust-domain>/ns/<namespace>/sa/<name>` from it. It has no spec: its few fields sit
 * at the top level, and the loader hands them over as the typed body.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z } from '../schema.js';
import { dns1123SubdomainProblem } from './container.js';

const objectReference = z.strictObject({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});

export const serviceAccountSpec = z.strictObject({
  /** Secrets pods may use; only token secrets are meaningful since Kubernetes 1.24. */
  secrets: z.array(objectReference).optional(),
  imagePullSecrets: z.array(z.strictObject({ name: z.string() })).optional(),
  automountServiceAccountToken: z.boolean().optional(),
});
export type ServiceAccountSpec = z.output<typeof serviceAccountSpec>;

export const serviceAccountKind = defineKind({
  kind: 'ServiceAccount',
  group: '',
  versions: ['v1'],
  namespaced: true,
  spec: serviceAccountSpec,
  emptySpec: {},
  specFromTopLevel: true,
  validate: validateServiceAccount,
});

/** The API server checks only metadata; a reference no Secret could satisfy is worth a warning. */
function validateServiceAccount(spec: ServiceAccountSpec, ctx: ValidationContext): void {
  spec.imagePullSecrets?.forEach((ref, i) => {
    const bad = dns1123SubdomainProblem(ref.name, 'secret name');
    if (bad) ctx.warning(['imagePullSecrets', i, 'name'], `${bad}; no Secret can have this name`);
  });
}
