/**
 * The proxy's upstream side: clusters, endpoints, load balancing, connection pools with circuit
 * breakers, outlier detection, retries and timeouts (STYLE.md §6 `proxy/upstream/`).
 */
export { Upstreams, type UpstreamsOptions } from './upstreams.js';
export type { UpstreamRequest, UpstreamResponse, SendOptions } from './send.js';
export type { ConnectOptions } from './tcp.js';
export { UpstreamError, NO_HEALTHY_UPSTREAM, UPSTREAM_REQUEST_TIMEOUT, type ResponseFlag, type ResetReason } from './errors.js';
export type { ClusterStats, EndpointStats, ClusterCounters } from './stats.js';
export type { Clock, SetTimer, Timer } from './clock.js';
export type { Endpoint } from '../../proxy-config/index.js';
export { xxHash64 } from './lb/xxhash64.js';
