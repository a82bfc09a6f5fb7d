/**
 * What AuthorizationPolicy sees of a connection (stages/authz.ts AuthzInput): the mTLS peer's
 * principal, addresses, the destination port the workload was addressed on, and the SNI. Shared
 * by the HTTP authz step and the TCP proxy so both read a connection the same way.
 */
import { isIP } from 'node:net';
import type { AuthzHttpInput, AuthzInput } from '../stages/authz.js';
import type { ConnectionContext } from './connection.js';

/**
 * `destination.port`: the workload port for the inbound side (what iptables' original
 * destination would say), the listener's port for gateways, the request's port otherwise.
 */
export function destinationPort(conn: ConnectionContext, requestPort: number): number {
  const b = conn.binding;
  switch (b.kind) {
    case 'inbound': return b.destinationPort ?? requestPort;
    case 'inbound-own': case 'gateway': case 'outbound-port': return b.port;
    default: return requestPort;
  }
}

/**
 * `remote.ip`: Envoy's downstream remote address. A gateway uses the peer's address (Istio sets
 * use_remote_address there, with no trusted hops by default); a sidecar's inbound side does not,
 * so the last X-Forwarded-For entry stands in for the peer when there is one.
 */
function remoteIp(conn: ConnectionContext, forwardedFor: string | undefined): string {
  const inbound = conn.binding.kind === 'inbound' || conn.binding.kind === 'inbound-own';
  if (!inbound || forwardedFor === undefined) return conn.remoteAddress;
  const last = forwardedFor.slice(forwardedFor.lastIndexOf(',') + 1).trim();
  return isIP(last) ? last : conn.remoteAddress;
}

/** The connection's local address always carries its port (`10.0.0.9:8080`, `::1:8080`); policies want the address. */
function addressOnly(hostPort: string): string {
  const colon = hostPort.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(hostPort.slice(colon + 1)) ? hostPort.slice(0, colon) : hostPort;
}

export function authzInput(conn: ConnectionContext, port: number, http: AuthzHttpInput | undefined, forwardedFor?: string): AuthzInput {
  return {
    principal: conn.peerPrincipal,
    sourceIp: conn.remoteAddress,
    remoteIp: remoteIp(conn, forwardedFor),
    destinationIp: addressOnly(conn.localAddress),
    destinationPort: destinationPort(conn, port),
    sni: conn.serverName,
    ...(http ? { http } : {}),
  };
}
