/**
 * A sidecar's outbound route tables, one per HTTP port, named by the port (`9080`), as Istio's
 * BuildSidecarOutboundVirtualHosts builds them: a virtual host per service on that port, with the
 * routes of the VirtualServices for its host (several merged: the oldest first, the routes of
 * later ones appended), or Istio's default route when none; virtual hosts for VirtualService hosts
 * that are no service; then `allow_any` (PassthroughCluster) or `block_all` (502) for every other
 * Host, by the outbound traffic policy.
 */
import type { Route, RouteConfiguration, VirtualHost } from '../../proxy-config/index.js';
import { hostCovers, hostsIntersect } from '../../resources/index.js';
import { isHttp, type Service } from '../../registry/index.js';
import type { ProxyScope } from '../scope.js';
import type { ClusterSet } from '../clusters/cluster-set.js';
import { outboundClusterName, PASSTHROUGH_CLUSTER } from '../clusters/names.js';
import { MESH_GATEWAY, type VirtualServiceEntry } from '../snapshot/virtual-services.js';
import { translateHttpRoutes, type RouteContext } from './http-route.js';
import { retryPolicy } from './policies.js';
import { dedupeDomains, serviceDomains } from './domains.js';
import { sharedDedupe, sharedDefaultHost } from './shared-hosts.js';

/** Ports that get an HTTP route table: HTTP protocols, and sniffed (Unsupported) ports. */
export function httpPorts(scope: ProxyScope): number[] {
  const ports = new Set<number>();
  for (const s of scope.services) for (const p of s.ports) if ((isHttp(p.protocol) || p.protocol === 'Unsupported') && scope.admitsPort(s, p.port)) ports.add(p.port);
  return [...ports].sort((a, b) => a - b);
}

export function sidecarRouteConfigs(scope: ProxyScope, clusters: ClusterSet): RouteConfiguration[] {
  return httpPorts(scope).map((port) => ({ name: String(port), virtualHosts: virtualHostsForPort(scope, clusters, port) }));
}

function virtualHostsForPort(scope: ProxyScope, clusters: ClusterSet, port: number): VirtualHost[] {
  const { node, snapshot } = scope;
  const ctx: RouteContext = { scope, clusters, audience: { gateways: new Set([MESH_GATEWAY]), labels: node.labels, namespace: node.namespace, port } };
  const onPort = scope.services.filter((s) => s.ports.some((p) => p.port === port && (isHttp(p.protocol) || p.protocol === 'Unsupported')) && scope.admitsPort(s, port));
  const hosts: VirtualHost[] = [];
  for (const service of onPort) {
    const owners = virtualServicesFor(service, scope.meshVirtualServices);
    if (owners.length === 0) {
      // The default route reads only the snapshot, the service and its cluster's hash policy (shared.ts).
      const hash = clusters.hashPolicy(outboundClusterName(port, undefined, service.hostname));
      hosts.push(sharedDefaultHost(snapshot, service, port, node.namespace, hash, () => defaultHost(scope, clusters, service, port)));
      continue;
    }
    const routes = owners.flatMap((vs) => translateHttpRoutes(vs, ctx));
    hosts.push({ name: `${service.hostname}:${port}`, domains: serviceDomains(service, port, node.namespace), routes });
  }
  // VirtualService hosts that name no service still get a virtual host on every HTTP port.
  for (const vs of scope.meshVirtualServices) {
    for (const host of vs.hosts) {
      if (snapshot.registry.services.some((s) => hostsIntersect(host, s.hostname))) continue;
      hosts.push({ name: `${host}:${port}`, domains: [host, `${host}:${port}`], routes: translateHttpRoutes(vs, ctx) });
    }
  }
  hosts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...sharedDedupe(snapshot, hosts, dedupeDomains), fallbackHost(scope)];
}

/** The VirtualServices for a service host: those naming it exactly, else those with the most specific wildcard. */
export function virtualServicesFor(service: Service, vss: readonly VirtualServiceEntry[]): VirtualServiceEntry[] {
  const exact = vss.filter((vs) => vs.hosts.includes(service.hostname));
  if (exact.length > 0) return exact;
  let best = -1;
  let out: VirtualServiceEntry[] = [];
  for (const vs of vss) {
    for (const h of vs.hosts) {
      if (!hostCovers(h, service.hostname)) continue;
      if (h.length > best) {
        best = h.length;
        out = [vs];
      } else if (h.length === best && !out.includes(vs)) out.push(vs);
    }
  }
  return out;
}

function defaultHost(scope: ProxyScope, clusters: ClusterSet, service: Service, port: number): VirtualHost {
  return { name: `${service.hostname}:${port}`, domains: serviceDomains(service, port, scope.node.namespace), routes: [defaultRoute(scope, clusters, service, port)] };
}

/** No VirtualService: everything to the service's cluster, with Istio's default retries and no timeout. */
function defaultRoute(scope: ProxyScope, clusters: ClusterSet, service: Service, port: number): Route {
  const cluster = outboundClusterName(port, undefined, service.hostname);
  const hash = clusters.hashPolicy(cluster);
  const retry = retryPolicy(undefined, scope.snapshot.mesh, hash !== undefined);
  return {
    name: 'default',
    match: { path: { prefix: '/' } },
    action: { kind: 'forward', clusters: [{ cluster, weight: 100 }], ...(retry ? { retry } : {}), ...(hash ? { hashPolicy: hash } : {}) },
  };
}

function fallbackHost(scope: ProxyScope): VirtualHost {
  if (scope.outboundTrafficPolicy === 'REGISTRY_ONLY') {
    return { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { path: { prefix: '/' } }, action: { kind: 'direct-response', status: 502 } }] };
  }
  return { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { path: { prefix: '/' } }, action: { kind: 'forward', clusters: [{ cluster: PASSTHROUGH_CLUSTER, weight: 100 }] } }] };
}
