/**
 * Config builders for the proxy's tests: a ProxyConfig in a few readable lines, with the
 * defaults the compiler would fill in.
 */
import type { Cluster, ClusterLoadAssignment, Listener, ProxyConfig, Route, RouteAction, RouteConfiguration, VirtualHost } from '../proxy-config/index.js';

export function cluster(name: string, extra: Partial<Cluster> = {}): Cluster {
  return {
    name,
    discovery: 'eds',
    protocol: 'http1',
    loadBalancer: { policy: 'ROUND_ROBIN' },
    connectTimeoutMs: 1000,
    circuitBreakers: { maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295, maxRequestsPerConnection: 0 },
    ...extra,
  };
}

export function endpoints(clusterName: string, ports: number[], address = '127.0.0.1'): ClusterLoadAssignment {
  return { cluster: clusterName, endpoints: ports.map((port) => ({ address, port, weight: 1, labels: {}, tlsMode: 'disabled' as const, healthy: true })) };
}

export function forward(clusterName: string, extra: Partial<Extract<RouteAction, { kind: 'forward' }>> = {}): RouteAction {
  return { kind: 'forward', clusters: [{ cluster: clusterName, weight: 100 }], ...extra };
}

export function route(name: string, match: Route['match'], action: RouteAction, extra: Partial<Route> = {}): Route {
  return { name, match, action, ...extra };
}

export function vhost(name: string, domains: string[], routes: Route[], extra: Partial<VirtualHost> = {}): VirtualHost {
  return { name, domains, routes, ...extra };
}

export function httpListener(name: string, direction: Listener['direction'], port: number, routeConfig: string): Listener {
  return {
    name,
    direction,
    address: '0.0.0.0',
    port,
    filterChains: [{ name: `${name}-http`, match: {}, protocol: 'http', http: { routeConfig, filters: [], statPrefix: direction } }],
  };
}

export function proxyConfig(parts: { version?: string; role?: ProxyConfig['node']['role']; listeners: Listener[]; routes: RouteConfiguration[]; clusters: Cluster[]; endpoints: ClusterLoadAssignment[]; secrets?: ProxyConfig['secrets'] }): ProxyConfig {
  return {
    version: parts.version ?? '1',
    node: { id: 'test.default', role: parts.role ?? 'ingress-gateway', namespace: 'default', workload: 'test', labels: {}, serviceAccount: 'default', ip: '127.0.0.1', revision: '' },
    listeners: parts.listeners,
    routes: parts.routes,
    clusters: parts.clusters,
    endpoints: parts.endpoints,
    secrets: parts.secrets ?? [],
    mesh: { trustDomain: 'cluster.local', pathNormalization: 'BASE', outboundTrafficPolicy: 'ALLOW_ANY' },
  };
}

