/**
 * Kubernetes' Namespace (core/v1). Cluster-scoped; its labels (`istio-injection`,
 * `istio.io/rev`) decide sidecar injection for every pod in it.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z } from '../schema.js';
import { looseObject, qualifiedNameProblem } from './container.js';

export const namespaceSpec = z.strictObject({
  /** Finalizers the namespace controller must clear before the namespace is gone. */
  finalizers: z.array(z.string()).optional(),
});
export type NamespaceSpec = z.output<typeof namespaceSpec>;

/** Written by the cluster; accepted so that `kubectl get -o yaml` output applies. */
const namespaceStatus = z.strictObject({
  phase: z.enum(['Active', 'Terminating']).optional(),
  conditions: z.array(looseObject).optional(),
});

/** Finalizer names the API server accepts without a domain prefix. */
const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

export const namespaceKind = defineKind({
  kind: 'Namespace',
  group: '',
  versions: ['v1'],
  namespaced: false,
  nameFormat: 'dns1123-label',
  spec: namespaceSpec,
  emptySpec: {},
  topLevel: { status: namespaceStatus.optional() },
  validate: validateNamespace,
});

function validateNamespace(spec: NamespaceSpec, ctx: ValidationContext): void {
  spec.finalizers?.forEach((name, i) => {
    const bad = qualifiedNameProblem(name, 'finalizer');
    if (bad) ctx.error(['finalizers', i], bad);
    else if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name)) {
      ctx.error(['finalizers', i], `invalid finalizer ${JSON.stringify(name)}: name is neither a standard finalizer name nor is it fully qualified`);
    }
  });
}
