/**
 * A route destination -> the cluster it names. The host resolves in the namespace of the rule that
 * wrote it, then against the services this proxy sees (exactly, else the most specific wildcard
 * ServiceEntry host). The port is the destination's, else the service's only port, else the
 * listener's. The cluster name is always Istio's `outbound|port|subset|host`; whether that
 * cluster exists is the caller's question (a missing one answers 503 NC).
 */
import { resolveHost, hostCovers } from '../../resources/index.js';
import type { Destination } from '../../resources/istio/virtual-service.js';
import type { Service } from '../../registry/index.js';
import type { ProxyScope } from '../scope.js';
import { outboundClusterName } from '../clusters/names.js';

export interface ResolvedDestination {
  cluster: string;
  service?: Service;
  port: number;
}

export function resolveDestination(dest: Destination, namespace: string, listenerPort: number, scope: ProxyScope): ResolvedDestination {
  const host = resolveHost(dest.host, namespace, scope.snapshot.mesh.domainSuffix);
  const service = scope.lookupService(host) ?? wildcardService(host, scope.services);
  const only = service?.ports.length === 1 ? service.ports[0]?.port : undefined;
  const port = dest.port?.number || only || listenerPort;
  return { cluster: outboundClusterName(port, dest.subset, service?.hostname ?? host), ...(service ? { service } : {}), port };
}

function wildcardService(host: string, services: readonly Service[]): Service | undefined {
  let best: Service | undefined;
  for (const s of services) {
    if (!s.hostname.startsWith('*') || !hostCovers(s.hostname, host)) continue;
    if (!best || s.hostname.length > best.hostname.length) best = s;
  }
  return best;
}
