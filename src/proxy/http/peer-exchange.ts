/**
 * Istio's HTTP metadata exchange, the protocol (the peer_metadata filter with `istio_headers`
 * discovery and propagation): a client sidecar or gateway sends its workload metadata to mesh
 * clusters in `x-envoy-peer-metadata` / `-id`; the server sidecar reads and strips them, and
 * answers with its own in the response, which the client reads and strips. So both reporters of
 * a request know both workloads, and the apps never see the headers. A server answers only a
 * client that sent its metadata, as Istio's does, and a client sends it only to clusters whose
 * endpoints are mesh workloads (Istio's skip of external clusters), so nothing leaks outside.
 */
import type { ProxyConfig } from '../../proxy-config/index.js';
import type { HeaderMap } from '../stages/headers.js';
import type { Exchange } from './exchange.js';
import { PEER_METADATA, PEER_METADATA_ID, decodePeerMetadata, localPeerHeaders, type PeerMetadata } from './peer-metadata.js';

/** In requestHeadersStep: strip what came in, and on the client side add ours for mesh clusters. */
export function peerRequestHeaders(ex: Exchange, headers: HeaderMap): void {
  if (headers[PEER_METADATA] !== undefined || headers[PEER_METADATA_ID] !== undefined) {
    delete headers[PEER_METADATA];
    delete headers[PEER_METADATA_ID];
  }
  if (ex.listener.direction === 'inbound') return;
  const cluster = ex.snapshot.clusters.get(ex.cluster);
  if (cluster?.service === undefined || cluster.discovery === 'original-dst' || !meshClusters(ex.snapshot.config).has(ex.cluster)) return;
  const own = localPeerHeaders(ex.snapshot.config.node);
  headers[PEER_METADATA_ID] = own.id;
  headers[PEER_METADATA] = own.value;
}

const meshClusterSets = new WeakMap<ProxyConfig, Set<string>>();

/** Clusters with an endpoint that names a workload (a pod or WorkloadEntry); external hosts name none. Once per config. */
function meshClusters(config: ProxyConfig): Set<string> {
  let set = meshClusterSets.get(config);
  if (!set) {
    set = new Set(config.endpoints.filter((a) => a.endpoints.some((e) => e.workload !== undefined)).map((a) => a.cluster));
    meshClusterSets.set(config, set);
  }
  return set;
}

/** On the upstream response's headers: read (client side) and strip the server's, add ours (server side). */
export function peerResponseHeaders(ex: Exchange, headers: HeaderMap): void {
  const value = headers[PEER_METADATA];
  if (value !== undefined || headers[PEER_METADATA_ID] !== undefined) {
    if (ex.listener.direction !== 'inbound' && typeof value === 'string') ex.upstreamPeer = decodePeerMetadata(value);
    delete headers[PEER_METADATA];
    delete headers[PEER_METADATA_ID];
  }
  peerReplyHeaders(ex, headers);
}

/** Server side: our metadata for a client that sent its own (local replies too: a 403 names its workload). */
export function peerReplyHeaders(ex: Exchange, headers: Record<string, unknown>): void {
  if (ex.listener.direction !== 'inbound' || ex.req.headers[PEER_METADATA] === undefined) return;
  const own = localPeerHeaders(ex.snapshot.config.node);
  headers[PEER_METADATA_ID] = own.id;
  headers[PEER_METADATA] = own.value;
}

/** Server side: the client's workload, from the request as it arrived (decoded once per distinct value). */
export function downstreamPeer(ex: Exchange): PeerMetadata | undefined {
  if (ex.listener.direction !== 'inbound') return undefined;
  const v = ex.req.headers[PEER_METADATA];
  return typeof v === 'string' ? decodePeerMetadata(v) : undefined;
}
