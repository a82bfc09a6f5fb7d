/**
 * Opening a raw TCP connection through a cluster, for TCP proxying (Envoy's tcp_proxy): the same
 * host selection, maxConnections circuit breaker (overflow: UO), connect timeout (UF) and outlier
 * reporting as HTTP, and no retries (tcp_proxy's max_connect_attempts defaults to 1).
 */
import type net from 'node:net';
import type { Endpoint } from '../../proxy-config/index.js';
import type { ClusterState } from './cluster.js';
import { ResetError, UpstreamError } from './errors.js';
import { xxHash64 } from './lb/xxhash64.js';
import { openSocket } from './socket.js';

export interface ConnectOptions {
  hashKey?: string;
  /** For PASSTHROUGH / original-dst clusters: where the connection was originally headed. */
  originalDestination?: { address: string; port: number };
}

export async function connectTcp(cluster: ClusterState, opts: ConnectOptions): Promise<{ socket: net.Socket; endpoint: Endpoint }> {
  cluster.counters.requests++;
  const hash = cluster.consistentHash && opts.hashKey !== undefined ? xxHash64(opts.hashKey) : undefined;
  const host = opts.originalDestination && cluster.originalDestination ? cluster.originalDestinationHost(opts.originalDestination.address, opts.originalDestination.port) : cluster.pickHost(hash);
  if (!host) {
    cluster.counters.noHealthyUpstream++;
    throw UpstreamError.noHealthyUpstream();
  }
  if (!cluster.breakers.tryAcquire('connections')) throw UpstreamError.fromReset('overflow', { retried: false });
  host.requestsTotal++;
  cluster.counters.attempts++;
  let socket: net.Socket;
  try {
    const origination = cluster.tlsFor(host.endpoint.tlsMode, host.endpoint.workload);
    socket = await openSocket(host.endpoint, cluster.config.connectTimeoutMs, origination ? { origination, protocol: 'tcp' } : undefined, cluster.config.upstreamBindAddress, cluster.config.tcpKeepalive);
  } catch (err) {
    cluster.breakers.release('connections');
    cluster.counters.connectFailures++;
    cluster.outlier?.report(host, { kind: 'connect-failed' });
    throw UpstreamError.fromReset('connection failure', { retried: false, cause: err instanceof ResetError && !err.transportFailure ? err.cause : err });
  }
  cluster.outlier?.report(host, { kind: 'connect-success', final: true });
  host.tcpConnections++;
  socket.once('close', () => {
    host.tcpConnections--;
    cluster.breakers.release('connections');
  });
  return { socket, endpoint: host.endpoint };
}
