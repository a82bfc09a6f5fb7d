/**
 * The ProxyConfigs the Weft rows run: what istiod would compile for a service `upstream` in
 * namespace `bench` on port 9080, plaintext (no mTLS: the comparison proxies have none either).
 *  - gateway: an ingress gateway with one server on port 8080 and one virtual host (`*`) routing to
 *    the upstream cluster;
 *  - client sidecar: outbound listener 0.0.0.0_9080 routing `upstream.bench...:9080` to the server
 *    pod (its sidecar's inbound port);
 *  - server sidecar: virtualInbound with a chain for destination port 9080 routing to the app.
 * With `MeshTls` (the `weft mesh (mTLS)` row) both sidecars get workload certificates from the
 * mesh CA and the configs the compiler emits under STRICT: the client's endpoint has a sidecar
 * (tlsMode `istio`, so auto mTLS sends ISTIO_MUTUAL with Istio's ALPN, checking the server's
 * SPIFFE ID) and the server's inbound chain accepts only Istio mTLS.
 */
import type { Cluster, ProxyConfig, ProxyNode, RouteConfiguration } from '../../src/proxy-config/index.js';

export const SERVICE_HOST = 'upstream.bench.svc.cluster.local';
export const SERVICE_PORT = 9080;
export const GATEWAY_PORT = 8080;
const OUTBOUND_CLUSTER = `outbound|${SERVICE_PORT}||${SERVICE_HOST}`;
const INBOUND_CLUSTER = `inbound|${SERVICE_PORT}||`;

/** Istio's defaults for a DestinationRule-less cluster: limits at 2^32-1, 10 s connect timeout. */
function cluster(name: string): Cluster {
  const unlimited = 4294967295;
  return {
    name,
    discovery: name.startsWith('inbound') ? 'static' : 'eds',
    protocol: 'http1',
    service: { host: SERVICE_HOST, name: 'upstream', namespace: 'bench', port: SERVICE_PORT },
    loadBalancer: { policy: 'LEAST_REQUEST' },
    connectTimeoutMs: 10_000,
    circuitBreakers: { maxConnections: unlimited, maxPendingRequests: unlimited, maxRequests: unlimited, maxRetries: unlimited, maxRequestsPerConnection: 0 },
  };
}

function routeTo(name: string, domains: string[], clusterName: string, vhName: string): RouteConfiguration {
  return {
    name,
    virtualHosts: [{ name: vhName, domains, routes: [{ name: 'default', match: { path: { prefix: '/' } }, action: { kind: 'forward', clusters: [{ cluster: clusterName, weight: 100 }] } }] }],
  };
}

/** Workload certificates and the trust bundle for the mTLS mesh row (PEM). */
export interface MeshTls {
  trustBundle: string;
  client: { certificateChain: string; privateKey: string };
  server: { certificateChain: string; privateKey: string };
}

/** The server workload's service account: its SPIFFE ID is what the client's auto mTLS expects. */
export const SERVER_SERVICE_ACCOUNT = 'upstream';
export const CLIENT_SERVICE_ACCOUNT = 'client';

function secrets(tls: MeshTls | undefined, own: 'client' | 'server'): ProxyConfig['secrets'] {
  if (!tls) return [];
  return [{ name: 'default', ...tls[own] }, { name: 'ROOTCA', trustedCa: tls.trustBundle }];
}

function base(node: Omit<ProxyNode, 'namespace' | 'labels' | 'serviceAccount' | 'ip' | 'revision'>, serviceAccount = 'default', secretList: ProxyConfig['secrets'] = []): Omit<ProxyConfig, 'listeners' | 'routes' | 'clusters' | 'endpoints'> {
  return {
    version: 'bench-1',
    node: { ...node, namespace: 'bench', labels: { app: node.workload }, serviceAccount, ip: '127.0.0.1', revision: '' },
    secrets: secretList,
    mesh: { trustDomain: 'cluster.local', pathNormalization: 'BASE', outboundTrafficPolicy: 'ALLOW_ANY' },
  };
}

const endpoint = (port: number) => ({ address: '127.0.0.1', port, weight: 1, labels: { app: 'upstream' }, tlsMode: 'disabled' as const, healthy: true });

export function gatewayConfig(upstreamPort: number): ProxyConfig {
  const routeName = `http.${GATEWAY_PORT}`;
  return {
    ...base({ id: 'bench-gateway.bench', role: 'ingress-gateway', workload: 'bench-gateway' }),
    listeners: [
      {
        name: `0.0.0.0_${GATEWAY_PORT}`,
        direction: 'gateway',
        address: '0.0.0.0',
        port: GATEWAY_PORT,
        filterChains: [{ name: 'http', match: {}, protocol: 'http', http: { routeConfig: routeName, filters: [], statPrefix: `outbound_0.0.0.0_${GATEWAY_PORT}` } }],
      },
    ],
    routes: [routeTo(routeName, ['*'], OUTBOUND_CLUSTER, `*:${GATEWAY_PORT}`)],
    clusters: [cluster(OUTBOUND_CLUSTER)],
    endpoints: [{ cluster: OUTBOUND_CLUSTER, endpoints: [endpoint(upstreamPort)] }],
  };
}

/** The client pod's sidecar: its outbound side sends `upstream:9080` to the server sidecar at `serverInboundPort`. */
export function clientSidecarConfig(serverInboundPort: number, tls?: MeshTls): ProxyConfig {
  const routeName = String(SERVICE_PORT);
  const short = ['upstream', 'upstream.bench', 'upstream.bench.svc', SERVICE_HOST];
  const server = tls
    ? { ...endpoint(serverInboundPort), tlsMode: 'istio' as const, workload: { name: 'upstream', namespace: 'bench', serviceAccount: SERVER_SERVICE_ACCOUNT } }
    : endpoint(serverInboundPort);
  return {
    ...base({ id: 'client-0.bench', role: 'sidecar', workload: 'client' }, tls ? CLIENT_SERVICE_ACCOUNT : 'default', secrets(tls, 'client')),
    listeners: [
      {
        name: `0.0.0.0_${SERVICE_PORT}`,
        direction: 'outbound',
        address: '0.0.0.0',
        port: SERVICE_PORT,
        filterChains: [{ name: 'http', match: {}, protocol: 'http', http: { routeConfig: routeName, filters: [], statPrefix: `outbound_0.0.0.0_${SERVICE_PORT}` } }],
      },
    ],
    routes: [routeTo(routeName, [...short, ...short.map((h) => `${h}:${SERVICE_PORT}`)], OUTBOUND_CLUSTER, `${SERVICE_HOST}:${SERVICE_PORT}`)],
    clusters: [cluster(OUTBOUND_CLUSTER)],
    endpoints: [{ cluster: OUTBOUND_CLUSTER, endpoints: [server] }],
  };
}

/** The server pod's sidecar: inbound traffic for port 9080 goes to the app at `appPort`. */
export function serverSidecarConfig(appPort: number, tls?: MeshTls): ProxyConfig {
  const routeName = INBOUND_CLUSTER;
  // STRICT: Istio mTLS only, by transport and Istio's ALPN, as the compiler's inbound chains.
  const transport = tls
    ? {
      match: { destinationPort: SERVICE_PORT, transportProtocol: 'tls' as const },
      tls: { mode: 'ISTIO_MUTUAL' as const, certificate: 'default', validationContext: 'ROOTCA', alpn: ['h2', 'http/1.1'] },
    }
    : { match: { destinationPort: SERVICE_PORT, transportProtocol: 'raw_buffer' as const } };
  return {
    ...base({ id: 'upstream-0.bench', role: 'sidecar', workload: 'upstream' }, tls ? SERVER_SERVICE_ACCOUNT : 'default', secrets(tls, 'server')),
    listeners: [
      {
        name: 'virtualInbound',
        direction: 'inbound',
        address: '0.0.0.0',
        port: 15006,
        filterChains: [
          {
            name: `0.0.0.0_${SERVICE_PORT}`,
            ...transport,
            protocol: 'http',
            http: { routeConfig: routeName, filters: [], statPrefix: `inbound_0.0.0.0_${SERVICE_PORT}` },
          },
        ],
      },
    ],
    routes: [routeTo(routeName, ['*'], INBOUND_CLUSTER, `inbound|http|${SERVICE_PORT}`)],
    clusters: [cluster(INBOUND_CLUSTER)],
    endpoints: [{ cluster: INBOUND_CLUSTER, endpoints: [endpoint(appPort)] }],
  };
}
