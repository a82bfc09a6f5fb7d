/**
 * Istio's auth.AuthorizationPoliciesAnalyzer (pkg/config/analysis/analyzers/authz/
 * authorizationpolicies.go): a policy must apply to some workload in the mesh (IST0127), and the
 * namespaces its sources name (`namespaces`, `notNamespaces`, with `*` prefix/suffix wildcards)
 * must match a Namespace resource (IST0101). As in Istio, only Namespace resources count, not the
 * namespaces other resources happen to live in.
 *
 * Istio looks at Pods that have (or will get) a sidecar, or are in ambient mode. Files have no
 * Pods, so the workloads of meshIndex stand in for them: a Deployment's pod template is in the
 * mesh when it names an istio-proxy container, when its labels or annotations ask for injection,
 * or when its namespace is labelled for injection (istio-injection=enabled, or istio.io/rev, which
 * a cluster's injected pods would show as an istio-proxy container). WorkloadEntries and the
 * gateways an install creates run a proxy, so they are in the mesh.
 */
import type { ResourceOf } from '../kinds.js';
import { Messages } from '../messages.js';
import type { AnalysisContext, Analyzer } from './context.js';
import { formatLabels, labelsMatch, meshIndex, type MeshWorkload } from './mesh-index.js';

export const authorizationPolicyAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'AuthorizationPolicies match workloads (IST0127) and name existing namespaces (IST0101)',
  analyze(ctx) {
    const index = meshIndex(ctx);
    const inMesh = index.workloads.filter((w) => workloadInMesh(w, index.namespaces) || inAmbientMode(w));
    const namespaces = [...index.namespaces.keys()];

    for (const ap of ctx.of('AuthorizationPolicy')) {
      const ns = ap.metadata.namespace;
      const selector = ap.spec.selector;
      const labels = selector?.matchLabels ?? {};
      const matches = (w: MeshWorkload): boolean => labelsMatch(labels, w.labels);

      if (ns === ctx.mesh.rootNamespace) {
        // Mesh-wide: without a selector it always applies; with one, to any namespace's workloads.
        if (selector && !inMesh.some(matches)) report(ctx, ap, formatLabels(labels));
      } else if (!selector) {
        if (!inMesh.some((w) => w.namespace === ns)) report(ctx, ap, '');
      } else if (!inMesh.some((w) => w.namespace === ns && matches(w))) {
        report(ctx, ap, formatLabels(labels));
      }

      ap.spec.rules?.forEach((rule, i) => {
        rule.from?.forEach((from, j) => {
          for (const field of ['namespaces', 'notNamespaces'] as const) {
            from.source?.[field]?.forEach((exp, k) => {
              if (namespaces.some((name) => namespaceMatch(name, exp))) return;
              ctx.report(ap, Messages.ReferencedResourceNotFound, ['namespace', exp], ['spec', 'rules', i, 'from', j, 'source', field, k]);
            });
          }
        });
      });
    }
  },
};

function report(ctx: AnalysisContext, ap: ResourceOf<'AuthorizationPolicy'>, labels: string): void {
  const path = ap.spec.selector ? ['spec', 'selector'] : ['metadata', 'name'];
  ctx.report(ap, Messages.NoMatchingWorkloadsFound, [labels], path);
}

/** Istio's namespaceMatch: `*`, `*suffix`, `prefix*` or an exact (case-insensitive) name. */
function namespaceMatch(ns: string, exp: string): boolean {
  if (exp === '*') return true;
  if (exp.startsWith('*')) return ns.endsWith(exp.slice(1));
  if (exp.endsWith('*')) return ns.startsWith(exp.slice(0, -1));
  return ns.toLowerCase() === exp.toLowerCase();
}

/** Istio's PodInMesh, for a pod template that has not been injected yet (see the file comment). */
function workloadInMesh(w: MeshWorkload, namespaces: ReadonlyMap<string, Record<string, string>>): boolean {
  if (w.implied || w.kind === 'WorkloadEntry') return true;
  const r = w.resource;
  if (r?.kind === 'Deployment' && r.spec.template.spec.containers.some((c) => c.name === 'istio-proxy' && c.image)) return true;
  const inject = w.labels['sidecar.istio.io/inject'] ?? w.annotations['sidecar.istio.io/inject'];
  if (inject !== undefined) return inject === 'true';
  if (w.labels['istio.io/rev']) return true;
  const nsLabels = namespaces.get(w.namespace);
  const injection = nsLabels?.['istio-injection'];
  if (injection !== undefined) return injection === 'enabled';
  return Boolean(nsLabels?.['istio.io/rev']);
}

function inAmbientMode(w: MeshWorkload): boolean {
  return w.annotations['ambient.istio.io/redirection'] === 'enabled';
}
