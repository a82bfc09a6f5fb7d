/**
 * Istio's virtualservice.DestinationRuleAnalyzer (destinationrules.go): a route or mirror
 * destination that names a subset needs a DestinationRule for that host defining the subset
 * (IST0101). Hosts are compared as FQDNs, short names expanded in the namespace of the resource
 * that wrote them, as Istio does.
 *
 * Two things Istio's analyzer does not do, because the proxies would not see the subset either:
 * a DestinationRule counts only where it is exported (its exportTo must reach the VirtualService's
 * namespace or a namespace the VirtualService is exported to), and a wildcard DestinationRule host
 * (`*.example.com`) supplies the subsets of the hosts it covers when no DestinationRule names the
 * host itself, since the proxies apply the most specific one.
 */
import type { ResourceOf } from '../kinds.js';
import { hostCovers, isWildcard, resolveHost } from '../hosts.js';
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';
import { lookupScopes, mirrorDestinations, routeDestinations, type PlacedDestination } from './destination-hosts.js';

type VirtualService = ResourceOf<'VirtualService'>;

interface RuleSubsets {
  host: string;
  /** Namespaces the rule is exported to; `*` for all. */
  exportedTo: string[];
  subsets: Set<string>;
}

function exportScopes(exportTo: readonly string[] | undefined, namespace: string): string[] {
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*')) return ['*'];
  return exportTo.map((e) => (e === '.' ? namespace : e));
}

function visibleTo(rule: RuleSubsets, vs: VirtualService): boolean {
  if (rule.exportedTo.includes('*')) return true;
  const namespaces = new Set([vs.metadata.namespace, ...lookupScopes(vs)]);
  return rule.exportedTo.some((ns) => namespaces.has(ns));
}

function subsetDefined(rules: readonly RuleSubsets[], vs: VirtualService, d: PlacedDestination, suffix: string): boolean {
  const subset = d.destination.subset;
  if (!subset) return true;
  const host = resolveHost(d.destination.host, vs.metadata.namespace, suffix);
  const visible = rules.filter((r) => visibleTo(r, vs));
  const exact = visible.filter((r) => r.host === host);
  const candidates = exact.length > 0 ? exact : visible.filter((r) => isWildcard(r.host) && hostCovers(r.host, host));
  return candidates.some((r) => r.subsets.has(subset));
}

export const destinationSubsetAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'VirtualService destination subsets are defined by a DestinationRule (IST0101)',
  analyze(ctx) {
    const suffix = ctx.mesh.domainSuffix;
    const rules: RuleSubsets[] = ctx.of('DestinationRule').map((dr) => ({
      host: resolveHost(dr.spec.host, dr.metadata.namespace, suffix),
      exportedTo: exportScopes(dr.spec.exportTo, dr.metadata.namespace),
      subsets: new Set((dr.spec.subsets ?? []).map((s) => s.name)),
    }));
    for (const vs of ctx.of('VirtualService')) {
      for (const [what, list] of [['host+subset in destinationrule', routeDestinations(vs.spec)], ['mirror+subset in destinationrule', mirrorDestinations(vs.spec)]] as const) {
        for (const d of list) {
          if (subsetDefined(rules, vs, d, suffix)) continue;
          ctx.report(vs, Messages.ReferencedResourceNotFound, [what, `${d.destination.host}+${d.destination.subset ?? ''}`], [...d.path.slice(0, -1), 'subset']);
        }
      }
    }
  },
};
