/**
 * Opening a TCP connection to an endpoint, shared by the HTTP pools and TCP proxying, so that
 * connect timeouts and failures mean one thing everywhere: a ResetError('connection failure').
 */
import net from 'node:net';
import { ResetError } from './errors.js';

const noop = (): void => {};

export interface ConnectTarget {
  address: string;
  port: number;
}

export function openSocket(target: ConnectTarget, connectTimeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    try {
      socket = net.connect({ host: target.address, port: target.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    } catch (err) {
      reject(new ResetError('connection failure', { cause: err }));
      return;
    }
    const timeout = Number.isFinite(connectTimeoutMs) && connectTimeoutMs > 0 ? connectTimeoutMs : 10_000;
    const timer = setTimeout(() => fail(new Error(`connect timeout after ${timeout}ms`)), timeout);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.destroy();
      reject(new ResetError('connection failure', { cause: err }));
    };
    const onConnect = (): void => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      // A stray error on an idle pooled socket must never become an uncaught exception;
      // the 'close' that follows is what the pools act on.
      socket.on('error', noop);
      resolve(socket);
    };
    socket.once('connect', onConnect);
    socket.once('error', fail);
  });
}

/** Envoy's host address string: `ip:port`, with IPv6 addresses in brackets. */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
