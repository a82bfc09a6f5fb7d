/**
 * An HTTP request whose filter chain is a TCP proxy (an outbound proxy request to a port the
 * mesh treats as opaque): it goes to the TCP proxy's cluster as a route-less forward.
 */
import type { Route, TcpProxy } from '../../proxy-config/index.js';
import { pickWeighted } from '../stages/weighted.js';
import { BlockedDestinationError, ClusterNotFoundError, NoFilterChainError } from '../errors.js';
import type { Exchange } from './exchange.js';

const routes = new WeakMap<TcpProxy, Route>();

export function opaqueDestinationStep(ex: Exchange): void {
  const tcp = ex.filterChain.tcp;
  if (!tcp) throw new NoFilterChainError();
  let route = routes.get(tcp);
  if (!route) {
    route = { name: tcp.statPrefix, match: {}, action: { kind: 'forward', clusters: tcp.clusters } };
    routes.set(tcp, route);
  }
  ex.route = route;
  const destination = pickWeighted(tcp.clusters, ex.services.random);
  // REGISTRY_ONLY: unknown destinations go to the black hole; over HTTP Istio answers them 502.
  if (destination?.cluster === 'BlackHoleCluster') throw new BlockedDestinationError();
  if (!destination || !ex.snapshot.clusters.has(destination.cluster)) throw new ClusterNotFoundError(destination?.cluster ?? '');
  ex.destination = destination;
  ex.cluster = destination.cluster;
}
