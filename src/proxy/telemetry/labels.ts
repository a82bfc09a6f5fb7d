/**
 * Istio's standard metric labels for one request or connection, computed the way Istio's stats
 * filter does (istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc): the
 * reporter's own side from its node, the peer's from the metadata exchange (on the client, the
 * endpoint's metadata when the server said nothing), principals only with mutual TLS, "unknown"
 * for what nobody said and "latest" for a missing canonical revision. Run once per distinct
 * series, never per request: the recorder caches the result.
 */
import type { Cluster, Endpoint, ProxyConfig, ListenerDirection } from '../../proxy-config/index.js';
import { DEFAULT_CLUSTER_ID, localPeer, type PeerMetadata } from '../http/peer-metadata.js';

/** The label names of the HTTP metrics, in exposition order. */
export const HTTP_LABELS = [
  'reporter',
  'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace',
  'source_principal', 'source_app', 'source_version', 'source_cluster',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app',
  'destination_version', 'destination_service', 'destination_canonical_service', 'destination_canonical_revision',
  'destination_service_name', 'destination_service_namespace', 'destination_cluster',
  'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy',
] as const;

/** TCP metrics carry no response code or gRPC status. */
export const TCP_LABELS = HTTP_LABELS.filter((l) => l !== 'response_code' && l !== 'grpc_response_status');

export interface LabelInput {
  config: ProxyConfig;
  direction: ListenerDirection;
  cluster: string;
  route: string;
  /** The Host header (the client's fallback for destination_service); '' for TCP. */
  authority: string;
  /** Verified downstream principal (`cluster.local/ns/x/sa/y`). */
  peerPrincipal: string | undefined;
  downstreamPeer: PeerMetadata | undefined;
  upstreamPeer: PeerMetadata | undefined;
  upstreamEndpoint: unknown;
  protocol: 'http' | 'grpc' | 'tcp';
  status: number;
  grpcStatus: string;
  flags: string;
}

const UNKNOWN = 'unknown';
const SPECIAL_CLUSTERS = new Set(['BlackHoleCluster', 'PassthroughCluster', 'InboundPassthroughCluster', 'InboundPassthroughClusterIpv4', 'InboundPassthroughClusterIpv6']);

const clusterIndex = new WeakMap<ProxyConfig, Map<string, Cluster>>();

function clusterOf(config: ProxyConfig, name: string): Cluster | undefined {
  let index = clusterIndex.get(config);
  if (!index) {
    index = new Map(config.clusters.map((c) => [c.name, c]));
    clusterIndex.set(config, index);
  }
  return index.get(name);
}

function isEndpoint(v: unknown): v is Endpoint {
  return typeof v === 'object' && v !== null && 'labels' in v && 'address' in v;
}

/** Istio's client-side fallback: the endpoint's own metadata (workload, namespace, canonical name; no app or version). */
function endpointPeer(ep: Endpoint): PeerMetadata | undefined {
  if (!ep.workload) return undefined;
  const l = ep.labels;
  return {
    name: '',
    namespace: ep.workload.namespace,
    workload: ep.workload.name,
    cluster: DEFAULT_CLUSTER_ID,
    app: '',
    version: '',
    canonicalService: l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l.app ?? ep.workload.name,
    canonicalRevision: l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l.version ?? 'latest',
  };
}

/** `<ns>` of `spiffe://td/ns/<ns>/sa/<sa>`. */
function namespaceOf(san: string): string {
  const i = san.indexOf('/ns/');
  if (i < 0) return '';
  const rest = san.slice(i + 4);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

/**
 * Did the upstream connection use Istio mTLS? The same decision the upstream side makes: the
 * cluster's ISTIO_MUTUAL, or auto mTLS to an endpoint with a sidecar when the proxy has a certificate.
 */
function upstreamMutualTls(config: ProxyConfig, cluster: Cluster | undefined, ep: Endpoint): boolean {
  if (cluster?.tls) return cluster.tls.mode === 'ISTIO_MUTUAL';
  if (ep.tlsMode !== 'istio') return false;
  const cert = config.secrets.find((s) => s.name === 'default');
  const root = config.secrets.find((s) => s.name === 'ROOTCA');
  return Boolean(cert?.certificateChain && root?.trustedCa);
}

const localSans = new WeakMap<ProxyConfig, string>();

function localSan(config: ProxyConfig): string {
  let san = localSans.get(config);
  if (san === undefined) {
    san = `spiffe://${config.mesh.trustDomain}/ns/${config.node.namespace}/sa/${config.node.serviceAccount}`;
    localSans.set(config, san);
  }
  return san;
}

/** The label values, in HTTP_LABELS order (TCP: TCP_LABELS order). */
export function istioLabelValues(input: LabelInput): string[] {
  const { config } = input;
  const local = localPeer(config.node);
  const cluster = clusterOf(config, input.cluster);
  const service = cluster?.service;
  const or = (v: string | undefined, fallback: string): string => (v ? v : fallback);
  let serviceHost: string;
  let serviceName: string;
  const out: string[] = [];
  let securityPolicy: string;
  if (input.direction === 'inbound') {
    const peer = input.downstreamPeer;
    const peerSan = input.peerPrincipal ? `spiffe://${input.peerPrincipal}` : '';
    const mtls = peerSan !== '';
    const peerNs = or(namespaceOf(peerSan), peer?.namespace ?? '');
    // The server does not fall back to the Host header: the inbound cluster's service, or its own canonical name.
    serviceHost = service?.host ?? local.canonicalService;
    serviceName = SPECIAL_CLUSTERS.has(input.cluster) ? input.cluster : (service?.name ?? local.canonicalService);
    out.push(
      'destination',
      or(peer?.workload, UNKNOWN), or(peer?.canonicalService, UNKNOWN), or(peer?.canonicalRevision, 'latest'), or(peerNs, UNKNOWN),
      or(peerSan, UNKNOWN), or(peer?.app, UNKNOWN), or(peer?.version, UNKNOWN), or(peer?.cluster, UNKNOWN),
      local.workload, local.namespace, mtls ? localSan(config) : UNKNOWN, local.app,
      local.version, serviceHost, local.canonicalService, local.canonicalRevision,
      serviceName, local.namespace, local.cluster,
    );
    securityPolicy = mtls ? 'mutual_tls' : 'none';
  } else {
    const ep = isEndpoint(input.upstreamEndpoint) ? input.upstreamEndpoint : undefined;
    const peer = input.upstreamPeer ?? (ep ? endpointPeer(ep) : undefined);
    const mtls = ep?.workload !== undefined && upstreamMutualTls(config, cluster, ep);
    const peerSan = mtls && ep?.workload ? `spiffe://${config.mesh.trustDomain}/ns/${ep.workload.namespace}/sa/${ep.workload.serviceAccount}` : '';
    const peerNs = or(namespaceOf(peerSan), peer?.namespace ?? '');
    serviceHost = service?.host ?? input.authority;
    serviceName = input.route === 'block_all' ? 'BlackHoleCluster' : input.route === 'allow_any' ? 'PassthroughCluster'
      : SPECIAL_CLUSTERS.has(input.cluster) ? input.cluster : (service?.name ?? input.authority);
    out.push(
      'source',
      local.workload, local.canonicalService, local.canonicalRevision, local.namespace,
      mtls ? localSan(config) : UNKNOWN, local.app, local.version, local.cluster,
      or(peer?.workload, UNKNOWN), or(peerNs, UNKNOWN), or(peerSan, UNKNOWN), or(peer?.app, UNKNOWN),
      or(peer?.version, UNKNOWN), or(serviceHost, UNKNOWN), or(peer?.canonicalService, UNKNOWN), or(peer?.canonicalRevision, 'latest'),
      or(serviceName, UNKNOWN), or(peerNs, UNKNOWN), or(peer?.cluster, UNKNOWN),
    );
    securityPolicy = UNKNOWN;
  }
  out.push(input.protocol);
  if (input.protocol !== 'tcp') out.push(String(input.status), input.protocol === 'grpc' ? input.grpcStatus : '');
  out.push(or(input.flags, '-'), securityPolicy);
  return out;
}
