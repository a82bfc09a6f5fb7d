/**
 * Istio's virtualservice.ConflictingMeshGatewayHostsAnalyzer (conflictingmeshgatewayhosts.go):
 * VirtualServices that apply to sidecars (no `gateways`, or `mesh` among them) and define the same
 * host for the same namespaces make the route undefined (IST0109). Hosts are keyed by the scope
 * they are exported to: `*` (no exportTo, or `*` in it) or each namespace named (`.` being the
 * VirtualService's own). Within `*` only identical hosts conflict; a namespace-scoped host also
 * conflicts with every `*`-scoped host it overlaps (wildcards included). Each VirtualService is
 * reported once, at its name, listing the conflicting VirtualServices and the scoped host.
 */
import type { ResourceOf } from '../kinds.js';
import { hostsIntersect, resolveHost } from '../hosts.js';
import { Messages } from '../messages.js';
import type { AnalysisContext, Analyzer } from './context.js';

type VirtualService = ResourceOf<'VirtualService'>;

const ALL = '*';

function boundToMesh(vs: VirtualService): boolean {
  const gateways = vs.spec.gateways ?? [];
  return gateways.length === 0 || gateways.includes('mesh');
}

/** Istio's initMeshGatewayHosts: `scope/fqdn` to the VirtualServices defining it, in input order. */
function meshGatewayHosts(ctx: AnalysisContext): Map<string, VirtualService[]> {
  const byHost = new Map<string, VirtualService[]>();
  for (const vs of ctx.of('VirtualService')) {
    if (!boundToMesh(vs)) continue;
    const ns = vs.metadata.namespace;
    const exportTo = vs.spec.exportTo ?? [];
    const scopes = exportTo.length === 0 || exportTo.includes(ALL) ? [ALL] : [...new Set(exportTo.map((e) => (e === '.' ? ns : e)))];
    for (const scope of scopes) {
      for (const host of vs.spec.hosts ?? []) {
        const key = `${scope}/${resolveHost(host, ns, ctx.mesh.domainSuffix)}`;
        byHost.set(key, [...(byHost.get(key) ?? []), vs]);
      }
    }
  }
  return byHost;
}

function splitKey(key: string): { scope: string; host: string } {
  const slash = key.indexOf('/');
  return { scope: key.slice(0, slash), host: key.slice(slash + 1) };
}

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'several VirtualServices bound to the mesh gateway define one host (IST0109)',
  analyze(ctx) {
    const byHost = meshGatewayHosts(ctx);
    const reported = new Set<VirtualService>();
    for (const [key, own] of byHost) {
      const { scope, host } = splitKey(key);
      const list = [...own];
      if (scope !== ALL) {
        for (const [other, services] of byHost) {
          const o = splitKey(other);
          if (o.scope === ALL && hostsIntersect(host, o.host)) list.push(...services);
        }
      }
      if (list.length < 2) continue;
      const names = list.map((vs) => `${vs.metadata.namespace}/${vs.metadata.name}`).sort().join(',');
      for (const vs of list) {
        if (reported.has(vs)) continue;
        reported.add(vs);
        ctx.report(vs, Messages.ConflictingMeshGatewayVirtualServiceHosts, [names, key], ['metadata', 'name']);
      }
    }
  },
};
