/**
 * A new downstream connection, from accept to whoever serves it: find the listener its port is
 * bound for, inspect the first bytes where the choice depends on them (TLS or not, SNI, ALPN,
 * the HTTP/2 preface), pick the filter chain, terminate TLS if the chain says so, then hand the
 * connection to the HTTP codecs or the TCP proxy.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { FilterChain } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { ProxyServices } from '../services.js';
import type { HttpCodecs } from '../http/server.js';
import { authorityPort } from '../http/target.js';
import { listenerFor, type Binding, type ConnectionContext } from './connection.js';
import { needsInspection, selectFilterChain } from './filter-chain.js';
import { inspectConnection, type Inspection } from './inspect.js';
import { peerIdentity, terminateTls } from './tls-terminate.js';
import { proxyTcp } from './tcp-proxy.js';
import { capturedBinding } from './capture.js';

export interface AcceptDeps {
  services: ProxyServices;
  codecs: HttpCodecs;
  current(): ConfigSnapshot | undefined;
  /** How long to wait for the first bytes (Envoy's listener_filters_timeout) and for a TLS handshake. */
  inspectTimeoutMs: number;
}

export async function acceptConnection(deps: AcceptDeps, socket: Socket, accepted: Binding): Promise<void> {
  socket.on('error', () => socket.destroy());
  const binding = capturedBinding(socket, accepted);
  const snapshot = deps.current();
  const stats = deps.services.stats;
  if (!snapshot) return void socket.destroy();
  const listener = binding.kind === 'outbound' ? undefined : listenerFor(snapshot, binding);
  if (binding.kind !== 'outbound' && !listener) {
    stats.inc('listener.no_listener');
    return void socket.destroy();
  }
  const chains: FilterChain[] = listener ? [...listener.filterChains, ...(listener.defaultChain ? [listener.defaultChain] : [])] : [];
  const destinationPort = binding.kind === 'outbound' ? undefined : binding.kind === 'inbound' ? binding.destinationPort : binding.port;

  // Server-first protocols (MySQL, SMTP) speak before the client: a listener that only proxies
  // TCP, with nothing to learn from the first bytes, must not wait for them.
  let inspection: Inspection = { transport: 'raw_buffer', serverName: undefined, alpn: undefined, h2Preface: false, timedOut: false, malformed: false };
  const opaqueOnly = listener !== undefined && chains.every((c) => c.protocol === 'tcp') && !needsInspection(chains);
  if (!opaqueOnly) {
    inspection = await inspectConnection(socket, deps.inspectTimeoutMs);
    if (socket.destroyed || (inspection.malformed && inspection.transport === 'raw_buffer')) return void socket.destroy();
  }
  const conn = context(socket, binding, inspection, undefined);

  if (!listener) {
    // The outbound capture port serves HTTP proxy requests (and CONNECT); the listener is picked per request.
    if (inspection.transport === 'tls' || inspection.timedOut) return void socket.destroy();
    return serveHttp(deps, socket, conn, inspection.h2Preface);
  }
  const chain = selectFilterChain(listener, { destinationPort, transport: inspection.transport, serverName: inspection.serverName, alpn: inspection.alpn });
  if (!chain) {
    stats.inc('listener.no_filter_chain_match');
    return void socket.destroy();
  }
  if (chain.tls) {
    if (inspection.malformed) return void socket.destroy();
    const secure = await terminateTls(socket, snapshot, chain.tls, deps.inspectTimeoutMs, inspection.alpn);
    if (!secure) {
      stats.inc('listener.ssl_handshake_error');
      return;
    }
    const tlsConn = context(secure, binding, inspection, secure);
    if (chain.protocol === 'tcp') return proxyTcp(deps.services, snapshot, secure, tlsConn, listener, chain);
    return serveHttp(deps, secure, tlsConn, secure.alpnProtocol === 'h2');
  }
  if (chain.protocol === 'tcp') return proxyTcp(deps.services, snapshot, socket, conn, listener, chain);
  if (inspection.transport === 'tls') return void socket.destroy(); // HTTP without TLS settings cannot read TLS
  return serveHttp(deps, socket, conn, inspection.h2Preface);
}

function serveHttp(deps: AcceptDeps, socket: Socket, conn: ConnectionContext, h2: boolean): void {
  if (h2) deps.codecs.serveHttp2(socket, conn);
  else deps.codecs.serveHttp1(socket, conn);
}

function peerFields(tls: TLSSocket | undefined): Pick<ConnectionContext, 'peerPrincipal' | 'clientCertDetails'> {
  if (!tls) return { peerPrincipal: undefined, clientCertDetails: undefined };
  const peer = peerIdentity(tls);
  return { peerPrincipal: peer.principal, clientCertDetails: peer.clientCertDetails };
}

function context(socket: Socket, binding: Binding, inspection: Inspection, tls: TLSSocket | undefined): ConnectionContext {
  return {
    binding,
    transport: inspection.transport,
    serverName: inspection.serverName,
    alpn: inspection.alpn,
    scheme: tls ? 'https' : 'http',
    remoteAddress: socket.remoteAddress ?? '',
    localAddress: socket.localAddress ? `${socket.localAddress}:${socket.localPort ?? 0}` : '',
    tls,
    ...peerFields(tls),
    inFlight: 0,
    protocolError: undefined,
    memo: undefined,
  };
}

/**
 * CONNECT through the outbound capture port (apps with HTTPS_PROXY): the tunnel's port picks the
 * outbound listener, and the tunnel is then served like a connection captured for that port
 * (TLS passed through by SNI, TCP proxied, or HTTP routed).
 */
export function handleConnect(deps: AcceptDeps, conn: ConnectionContext, req: { url?: string }, socket: Duplex, head: Buffer): void {
  const target = req.url ?? '';
  const port = authorityPort(target);
  const reject = (status: string): void => {
    socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`, () => socket.destroy());
  };
  if (conn.binding.kind !== 'outbound') return reject('403 Forbidden');
  if (port <= 0) return reject('400 Bad Request');
  const snapshot = deps.current();
  if (!snapshot || !(snapshot.outboundByPort.get(port) ?? snapshot.virtualOutbound)) return reject('404 Not Found');
  deps.services.stats.inc('downstream_cx_connect');
  socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
  if (head.length > 0) socket.unshift(head);
  const host = target.startsWith('[') ? target.slice(1, target.indexOf(']')) : target.slice(0, target.lastIndexOf(':'));
  void acceptConnection(deps, socket as Socket, { kind: 'outbound-port', port, host });
}

