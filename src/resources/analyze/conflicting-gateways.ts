/**
 * Port of Istio's gateway.ConflictingGatewayAnalyzer (analyzers/gateway/conflictinggateway.go):
 * two Gateways conflict on a server when their selectors pick the same gateway pods, the server
 * port numbers are equal, and they share a host (the same string) with the same bind address,
 * which is model.CheckDuplicates' rule.
 *
 * Departures from the Go code, all in bugs that make its result depend on map order:
 * - CheckDuplicates adds the hosts of a non-conflicting server to the other Gateway's known hosts
 *   (the map is aliased, not copied), so later comparisons see hosts that Gateway never declared;
 *   here the comparison does not modify anything.
 * - When a Gateway has two servers on one port, Go keeps only the last server's hosts; here the
 *   hosts of all of them are kept.
 * - Go also reports IST0101 for a Gateway none of whose selector~port keys exist, which can only
 *   happen for a Gateway with no servers (Weft's validation rejects it) and says nothing about
 *   workloads; gateway.IngressGatewayPortAnalyzer reports missing workloads, so that is left out.
 */
import { Messages } from '../messages.js';
import type { ResourceOf } from '../kinds.js';
import type { Analyzer } from './context.js';
import { formatLabels, labelsMatch, meshIndex, type MeshWorkload } from './mesh-index.js';

type Gateway = ResourceOf<'Gateway'>;

interface GatewayEntry {
  gateway: Gateway;
  /** `namespace/name`, as Istio names the conflicting Gateways. */
  name: string;
  selector: Record<string, string>;
  selectorText: string;
  /** port number -> host -> the bind addresses it is declared with ('' for none). */
  hostsByPort: Map<number, Map<string, Set<string>>>;
}

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: 'Gateways with the same selector, port and hosts (IST0145)',
  analyze(ctx) {
    const pods = meshIndex(ctx).workloads.filter((w) => w.kind === 'Deployment');
    const entries = ctx.of('Gateway').map(toEntry);

    for (const entry of entries) {
      const sameSelector = entries.filter((other) => other !== entry && other.hostsByPort.size > 0 && selectorsOverlap(entry, other, pods));
      (entry.gateway.spec.servers ?? []).forEach((server, i) => {
        const bind = server.bind ?? '';
        const conflicting = sameSelector.filter((other) => {
          const known = other.hostsByPort.get(server.port.number);
          return known !== undefined && server.hosts.some((h) => known.get(h)?.has(bind) === true);
        });
        if (conflicting.length === 0) return;
        const names = conflicting.map((c) => c.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        ctx.report(entry.gateway, Messages.ConflictingGateways,
          [names.join(','), entry.selectorText, String(server.port.number), server.hosts.join(',')], ['spec', 'servers', i]);
      });
    }
  },
};

function toEntry(gateway: Gateway): GatewayEntry {
  const selector = gateway.spec.selector ?? {};
  const hostsByPort = new Map<number, Map<string, Set<string>>>();
  for (const server of gateway.spec.servers ?? []) {
    const hosts = hostsByPort.get(server.port.number) ?? new Map<string, Set<string>>();
    for (const host of server.hosts) hosts.set(host, (hosts.get(host) ?? new Set<string>()).add(server.bind ?? ''));
    hostsByPort.set(server.port.number, hosts);
  }
  return { gateway, name: `${gateway.metadata.namespace}/${gateway.metadata.name}`, selector, selectorText: formatLabels(selector), hostsByPort };
}

/**
 * Istio's rule: equal selector strings always overlap; otherwise, when one selector's string
 * contains the other's (a sub-selector, e.g. `istio=ingressgateway` within
 * `app=x,istio=ingressgateway`), they overlap only if some gateway pod matches both.
 */
function selectorsOverlap(a: GatewayEntry, b: GatewayEntry, pods: MeshWorkload[]): boolean {
  if (a.selectorText === b.selectorText) return true;
  if (!a.selectorText.includes(b.selectorText) && !b.selectorText.includes(a.selectorText)) return false;
  return pods.some((p) => labelsMatch(a.selector, p.labels) && labelsMatch(b.selector, p.labels));
}
