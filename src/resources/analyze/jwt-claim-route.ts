/**
 * Istio's virtualservice.JWTClaimRouteAnalyzer (jwtclaimroute.go): a VirtualService bound to a
 * Gateway that matches on `@request.auth.claims.<claim>` (or `@request.auth.claims[<claim>]`)
 * needs a RequestAuthentication selecting every pod of that Gateway, in the root namespace or the
 * pod's own, or the claims are never there to match (IST0149). Istio walks the cluster's Pods;
 * files have none, so the pods are the Deployments' pod templates from meshIndex, including the
 * gateway Deployments an install would create, and a report names the Deployment.
 * As in Istio, a RequestAuthentication without a selector selects every pod of its namespace,
 * and a missing Gateway is left to the gateway analyzer.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ResourceOf } from '../kinds.js';
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';
import { labelsMatch, meshIndex } from './mesh-index.js';
import { gatewayRef } from './virtual-service-gateways.js';

const CLAIM_PREFIX = '@request.auth.claims';

/** Istio's jwt.ToRoutingClaim(...).Match. */
export function isRoutingClaim(header: string): boolean {
  if (!header.toLowerCase().startsWith(CLAIM_PREFIX)) return false;
  const rest = header.slice(CLAIM_PREFIX.length);
  if (rest.startsWith('.')) return rest.length > 1;
  return rest.startsWith('[') && rest.endsWith(']') && rest.length > 2;
}

/** Istio's routeBasedOnJWTClaimKey: the first claim key matched on, and where it is written. */
function claimKey(vs: ResourceOf<'VirtualService'>): { key: string; path: FieldPath } | undefined {
  const http = vs.spec.http ?? [];
  for (let i = 0; i < http.length; i++) {
    const matches = http[i]?.match ?? [];
    for (let j = 0; j < matches.length; j++) {
      for (const field of ['headers', 'withoutHeaders'] as const) {
        const key = Object.keys(matches[j]?.[field] ?? {}).find(isRoutingClaim);
        if (key !== undefined) return { key, path: ['spec', 'http', i, 'match', j, field, key] };
      }
    }
  }
  return undefined;
}

export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'JWT claim routing needs a RequestAuthentication on the gateway pods (IST0149)',
  analyze(ctx) {
    const selectorsByNamespace = new Map<string, (Record<string, string> | undefined)[]>();
    for (const ra of ctx.of('RequestAuthentication')) {
      const ns = ra.metadata.namespace;
      selectorsByNamespace.set(ns, [...(selectorsByNamespace.get(ns) ?? []), ra.spec.selector?.matchLabels]);
    }
    const pods = meshIndex(ctx).workloads.filter((w) => w.kind === 'Deployment');

    for (const vs of ctx.of('VirtualService')) {
      const claim = claimKey(vs);
      if (!claim) continue;
      for (const name of vs.spec.gateways ?? []) {
        if (name === 'mesh') continue;
        const ref = gatewayRef(name, vs.metadata.namespace);
        const gateway = ctx.get('Gateway', ref.namespace, ref.name);
        if (!gateway) continue;
        for (const pod of pods) {
          if (!labelsMatch(gateway.spec.selector, pod.labels)) continue;
          const selectors = [...(selectorsByNamespace.get(ctx.mesh.rootNamespace) ?? []), ...(selectorsByNamespace.get(pod.namespace) ?? [])];
          if (selectors.some((s) => labelsMatch(s, pod.labels))) continue;
          ctx.report(vs, Messages.JwtClaimBasedRoutingWithoutRequestAuthN, [claim.key, `${ref.namespace}/${ref.name}`, pod.name], claim.path);
        }
      }
    }
  },
};
