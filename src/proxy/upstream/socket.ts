/**
 * Opening a TCP connection to an endpoint, shared by the HTTP pools and TCP proxying, so that
 * connect timeouts and failures mean one thing everywhere: a ResetError('connection failure').
 */
import net from 'node:net';
import tls from 'node:tls';
import { ResetError } from './errors.js';
import { tlsConnectOptions, transportFailureReason, type EndpointIdentity, type Origination, type TlsProtocol } from './tls.js';

const noop = (): void => {};

export interface ConnectTarget {
  address: string;
  port: number;
  /** The endpoint's tlsMode when the pool was made, for auto mTLS. */
  tlsMode?: string;
  /** The endpoint's workload identity: the SAN auto mTLS expects. */
  workload?: EndpointIdentity;
}

export interface TlsSpec {
  origination: Origination;
  protocol: TlsProtocol;
}

/**
 * With `tls`, the connection counts as open only once the handshake is done (as Envoy raises
 * Connected after it), so the connect timeout covers both and a failed handshake is a
 * connection failure with Envoy's transport failure reason.
 */
export function openSocket(target: ConnectTarget, connectTimeoutMs: number, tlsSpec?: TlsSpec): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (tlsSpec?.origination.missing) {
      reject(new ResetError('connection failure', { cause: new Error(tlsSpec.origination.missing), transportFailure: `TLS_error:|${tlsSpec.origination.missing}:TLS_error_end` }));
      return;
    }
    let socket: net.Socket;
    const base = { host: target.address, port: target.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 };
    try {
      socket = tlsSpec ? tls.connect({ ...base, ...tlsConnectOptions(tlsSpec.origination, target.address, tlsSpec.protocol) }) : net.connect(base);
    } catch (err) {
      reject(new ResetError('connection failure', tlsSpec ? { cause: err, transportFailure: transportFailureReason(err) } : { cause: err }));
      return;
    }
    const event = tlsSpec ? 'secureConnect' : 'connect';
    let tcpUp = false;
    if (tlsSpec) socket.once('connect', () => (tcpUp = true));
    const timeout = Number.isFinite(connectTimeoutMs) && connectTimeoutMs > 0 ? connectTimeoutMs : 10_000;
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${timeout}ms`)), timeout);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.removeListener(event, onConnect);
      socket.destroy();
      // Only a failure after the TCP connect is the TLS handshake's.
      reject(new ResetError('connection failure', tlsSpec && tcpUp ? { cause: err, transportFailure: transportFailureReason(err) } : { cause: err }));
    };
    const onConnect = (): void => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      // A stray error on an idle pooled socket must never become an uncaught exception;
      // the 'close' that follows is what the pools act on.
      socket.on('error', noop);
      resolve(socket);
    };
    socket.once(event, onConnect);
    socket.once('error', fail);
  });
}

/** Envoy's host address string: `ip:port`, with IPv6 addresses in brackets. */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
