/**
 * A TCP filter chain (Envoy's tcp_proxy): the connection's bytes go to one endpoint of the
 * chain's (weighted) cluster and back, untouched, with byte counts for telemetry. A connection
 * the upstream side cannot serve is closed, which is all TCP can say (flags UH / UF in the event).
 */
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { FilterChain, Listener } from '../../proxy-config/index.js';
import { pickWeighted } from '../stages/weighted.js';
import { endpointAddress } from '../upstream-port.js';
import { connectionChannel, connectionOpenChannel, type ConnectionEvent, type ConnectionOpenEvent } from '../events.js';
import type { ProxyServices } from '../services.js';
import { splice } from '../http/upgrade.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { ConnectionContext } from './connection.js';
import { authorize } from '../stages/authz.js';
import { authzInput } from './authz-input.js';
import { PEER_EXCHANGE_ALPN, exchangeMetadata } from './tcp-exchange.js';
import type { PeerMetadata } from '../http/peer-metadata.js';

/** How long a peer that negotiated the metadata exchange has to send its frame before we relay without it. */
const EXCHANGE_TIMEOUT_MS = 2_000;

/** Istio's default TCP idle timeout (DestinationRule connectionPool.tcp.idleTimeout): 1h. */
const DEFAULT_IDLE_MS = 3_600_000;

export async function proxyTcp(services: ProxyServices, snapshot: ConfigSnapshot, socket: Duplex, conn: ConnectionContext, listener: Listener, chain: FilterChain): Promise<void> {
  const started = performance.now();
  const startTime = Date.now();
  const tcp = chain.tcp;
  const pick = tcp ? pickWeighted(tcp.clusters, services.random) : undefined;
  let flags = '';
  let upstreamHost = '';
  let upstreamEndpoint: unknown;
  let opened: ConnectionOpenEvent | undefined;
  let downstreamPeer: PeerMetadata | undefined;
  let upstreamPeer: PeerMetadata | undefined;
  let bytesReceived = 0;
  let bytesSent = 0;
  services.stats.inc('downstream_cx_tcp_total');
  services.stats.gauge('downstream_cx_tcp_active', 1);
  try {
    // Envoy's network RBAC filter: a denied connection is closed before any upstream is chosen.
    if (tcp?.authz && tcp.authz.length > 0 && !authorize(tcp.authz, authzInput(conn, listener.port, undefined)).allowed) {
      services.stats.inc('tcp.rbac.denied');
      socket.destroy();
      return;
    }
    if (!pick) {
      flags = 'NR';
      socket.destroy();
      return;
    }
    // Server side of Istio's TCP metadata exchange: the client's frame comes first on an mTLS chain.
    if (listener.direction === 'inbound' && chain.tls?.mode === 'ISTIO_MUTUAL' && conn.tls?.alpnProtocol === PEER_EXCHANGE_ALPN) {
      downstreamPeer = await exchangeMetadata(socket, snapshot.config.node, 'server', EXCHANGE_TIMEOUT_MS);
    }
    let upstream: Duplex;
    try {
      const connected = await services.upstreams.connect(pick.cluster, { hashKey: conn.remoteAddress, originalDestination: originalDestination(snapshot, conn, pick.cluster) });
      upstream = connected.socket;
      upstreamHost = endpointAddress(connected.endpoint);
      upstreamEndpoint = connected.endpoint;
    } catch (err) {
      flags = err instanceof Error && 'flag' in err && typeof err.flag === 'string' ? err.flag : 'UF';
      socket.destroy();
      return;
    }
    // Client side: an upstream sidecar that agreed to the exchange sends its frame before any bytes.
    if (!socket.destroyed && (upstream as Partial<TLSSocket>).alpnProtocol === PEER_EXCHANGE_ALPN) {
      upstreamPeer = await exchangeMetadata(upstream, snapshot.config.node, 'client', EXCHANGE_TIMEOUT_MS);
    }
    if (socket.destroyed) {
      flags = 'DC';
      upstream.destroy();
      return;
    }
    const idle = tcp?.idleTimeoutMs || DEFAULT_IDLE_MS;
    const counted = countBytes(socket, upstream);
    if (connectionOpenChannel.hasSubscribers) {
      opened = { origin: services, config: snapshot.config, direction: listener.direction, cluster: pick.cluster, peerPrincipal: conn.peerPrincipal, downstreamPeer, upstreamPeer, upstreamEndpoint, bytes: counted };
      connectionOpenChannel.publish(opened);
    }
    const timer = idleTimer(idle, socket, upstream);
    await splice(socket, upstream);
    timer.stop();
    ({ bytesReceived, bytesSent } = counted());
  } finally {
    services.stats.gauge('downstream_cx_tcp_active', -1);
    services.stats.inc('tcp_bytes_received', bytesReceived);
    services.stats.inc('tcp_bytes_sent', bytesSent);
    if (connectionChannel.hasSubscribers) {
      const event: ConnectionEvent = {
        startTime,
        durationMs: performance.now() - started,
        listener: listener.name,
        direction: listener.direction,
        statPrefix: tcp?.statPrefix ?? '',
        cluster: pick?.cluster ?? '',
        upstreamHost,
        flags,
        bytesReceived,
        bytesSent,
        downstreamRemoteAddress: conn.remoteAddress,
        requestedServerName: conn.serverName ?? '',
        downstreamLocalAddress: conn.localAddress,
        origin: services,
        config: snapshot.config,
        peerPrincipal: conn.peerPrincipal,
        downstreamPeer,
        upstreamPeer,
        upstreamEndpoint,
        opened,
      };
      connectionChannel.publish(event);
    }
  }
}

/** For PASSTHROUGH clusters: where the connection was headed, as far as this proxy knows it. */
function originalDestination(snapshot: ConfigSnapshot, conn: ConnectionContext, cluster: string): { address: string; port: number } | undefined {
  if (snapshot.clusters.get(cluster)?.discovery !== 'original-dst') return undefined;
  const b = conn.binding;
  const self = snapshot.config.node.ip || '127.0.0.1';
  if (b.kind === 'outbound-port') return { address: b.host, port: b.port };
  if (b.kind === 'inbound') return b.destinationPort !== undefined ? { address: self, port: b.destinationPort } : undefined;
  if (b.kind === 'inbound-own') return { address: self, port: b.port };
  return undefined;
}

/** Bytes from the client and bytes to it, counted as they pass. */
function countBytes(down: Duplex, up: Duplex): () => { bytesReceived: number; bytesSent: number } {
  let received = 0;
  let sent = 0;
  down.on('data', (c: Buffer) => (received += c.length));
  up.on('data', (c: Buffer) => (sent += c.length));
  return () => ({ bytesReceived: received, bytesSent: sent });
}

/** Closes both sides after `ms` without a byte in either direction. */
function idleTimer(ms: number, a: Duplex, b: Duplex): { stop(): void } {
  let last = Date.now();
  const touch = () => (last = Date.now());
  a.on('data', touch);
  b.on('data', touch);
  const interval = setInterval(() => {
    if (Date.now() - last >= ms) {
      a.destroy();
      b.destroy();
    }
  }, Math.min(ms, 1000)).unref();
  return { stop: () => clearInterval(interval) };
}
