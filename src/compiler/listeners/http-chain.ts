/**
 * An HTTP filter chain: HTTP connection manager with its route table and the request filters in
 * front of routing. TODO(issue "Security policy: PeerAuthentication, RequestAuthentication,
 * AuthorizationPolicy"): fill `filters` with jwt-authn and authz from the workload's policies.
 */
import type { FilterChain } from '../../proxy-config/index.js';

export function httpChain(name: string, routeConfig: string, statPrefix: string): FilterChain {
  return { name, match: {}, protocol: 'http', http: { routeConfig, filters: [], statPrefix } };
}
