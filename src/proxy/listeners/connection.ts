/**
 * What the proxy knows about one downstream connection, and how a request on it finds its
 * listener and filter chain in the current config. Inbound and gateway connections keep the
 * chain they were matched to until a new config is applied; then the next request on the same
 * keep-alive connection is matched again, so it uses the new routes. The outbound capture port
 * serves HTTP proxy requests for any destination, so there the choice is made per request.
 */
import type { TLSSocket } from 'node:tls';
import type { FilterChain, Listener } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';
import { selectFilterChain } from './filter-chain.js';
import { listenerForOriginalDestination } from './capture.js';

/** How a bound port maps to listeners in the config. */
export type Binding =
  /**
   * The outbound capture port (15001): the listener is picked by each request's destination port.
   * With `capture`, connections iptables redirected are served by their original destination (capture.ts).
   */
  | { kind: 'outbound'; capture?: boolean }
  /**
   * A CONNECT tunnel through the outbound capture port: its port names the listener. `original`:
   * a captured connection, `host` is the IP the app dialled (the listener is picked by IP and port).
   */
  | { kind: 'outbound-port'; port: number; host: string; original?: boolean }
  /** The inbound capture port (15006), or a port of `--inbound-port-map` naming the workload port. */
  | { kind: 'inbound'; destinationPort: number | undefined; capture?: boolean }
  /** An inbound listener on its own port. */
  | { kind: 'inbound-own'; port: number }
  /** A gateway listener, by the port in the config (the bound port may differ: `--port-map 80=8080`). */
  | { kind: 'gateway'; port: number };

export interface ConnectionContext {
  readonly binding: Binding;
  readonly transport: 'tls' | 'raw_buffer';
  readonly serverName: string | undefined;
  readonly alpn: readonly string[] | undefined;
  /** `https` once TLS was terminated here. */
  readonly scheme: 'http' | 'https';
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly tls: TLSSocket | undefined;
  /**
   * The verified peer's identity in Istio's principal format (`cluster.local/ns/default/sa/sleep`:
   * the SPIFFE ID without `spiffe://`), when TLS was terminated here and the client presented a
   * certificate that chained to the trusted CA; undefined otherwise (plaintext, no client cert).
   */
  readonly peerPrincipal: string | undefined;
  /** This hop's `x-forwarded-client-cert` element when a verified client certificate was presented. */
  readonly clientCertDetails: string | undefined;
  /** Requests in flight on this connection: a protocol error then closes it without a raw reply. */
  inFlight: number;
  /** Set while an HTTP/1 request is in flight: answers it when its body turns out malformed. */
  protocolError: (() => void) | undefined;
  /** The last authority a request on this connection named, checked, with its port (target.ts). */
  lastAuthority?: { authority: string; port: number };
  /** The match made for the snapshot last seen (not used for the outbound capture port). */
  memo: { snapshot: ConfigSnapshot; listener: Listener | undefined; chain: FilterChain | undefined } | undefined;
}

export interface Resolved {
  listener: Listener;
  chain: FilterChain;
}

/** The listener and chain serving a request to `port` on this connection, if any. */
export function resolveChain(snapshot: ConfigSnapshot, conn: ConnectionContext, port: number): Resolved | undefined {
  const b = conn.binding;
  if (b.kind === 'outbound') {
    const listener = snapshot.outboundByPort.get(port) ?? snapshot.virtualOutbound;
    if (!listener) return undefined;
    const chain = selectFilterChain(listener, { destinationPort: port, transport: conn.transport, serverName: conn.serverName, alpn: conn.alpn });
    return chain ? { listener, chain } : undefined;
  }
  let memo = conn.memo;
  if (memo === undefined || memo.snapshot !== snapshot) {
    const listener = listenerFor(snapshot, b);
    const destinationPort = b.kind === 'inbound' ? b.destinationPort : b.port;
    // (b.kind is never 'outbound' here: that case returned above.)
    const chain = listener ? selectFilterChain(listener, { destinationPort, transport: conn.transport, serverName: conn.serverName, alpn: conn.alpn }) : undefined;
    memo = { snapshot, listener, chain };
    conn.memo = memo;
  }
  return memo.listener && memo.chain ? { listener: memo.listener, chain: memo.chain } : undefined;
}

export function listenerFor(snapshot: ConfigSnapshot, b: Binding): Listener | undefined {
  switch (b.kind) {
    case 'outbound':
      return snapshot.virtualOutbound;
    case 'outbound-port':
      if (b.original) return listenerForOriginalDestination(snapshot, b.host, b.port);
      return snapshot.outboundByPort.get(b.port) ?? snapshot.virtualOutbound;
    case 'inbound':
      return snapshot.virtualInbound;
    case 'inbound-own':
      return snapshot.inboundOwnPorts.find((l) => l.port === b.port);
    case 'gateway':
      return snapshot.gatewayByPort.get(b.port);
  }
}
