/**
 * The sidecar's capture ports in a pod with iptables capture (`--interception-mode REDIRECT`):
 * each connection is served as if the proxy listened on the address the app dialled, as Envoy's
 * use_original_dst does. Outbound (15001): the listener of that exact VIP:port, else the one for
 * 0.0.0.0:port, else virtualOutbound (PassthroughCluster to that address under ALLOW_ANY, the
 * black hole under REGISTRY_ONLY). Inbound (15006): the workload port picks the filter chain. A
 * connection that reached 15001 without being redirected is an HTTP proxy client (HTTP_PROXY),
 * served as without capture.
 */
import type { Socket } from 'node:net';
import type { Listener } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { Binding } from './connection.js';
import { originalDestination, unmapped, type OriginalDestination } from './original-dst.js';

/** The binding a captured connection is served under; `binding` itself when it was not redirected. */
export function capturedBinding(socket: Socket, binding: Binding, read: (s: Socket) => OriginalDestination | undefined = originalDestination): Binding {
  if ((binding.kind !== 'outbound' && binding.kind !== 'inbound') || binding.capture !== true) return binding;
  const od = read(socket);
  if (!od || (od.address === unmapped(socket.localAddress ?? '') && od.port === socket.localPort)) return binding;
  if (binding.kind === 'outbound') return { kind: 'outbound-port', port: od.port, host: od.address, original: true };
  return { kind: 'inbound', destinationPort: od.port };
}

const byAddress = new WeakMap<ConfigSnapshot, Map<string, Listener>>();

/** The outbound listener for a connection to `address:port` (an IP, the original destination). */
export function listenerForOriginalDestination(snapshot: ConfigSnapshot, address: string, port: number): Listener | undefined {
  let index = byAddress.get(snapshot);
  if (!index) {
    index = new Map();
    for (const l of snapshot.config.listeners) {
      if (l.direction !== 'outbound' || l === snapshot.virtualOutbound) continue;
      const key = `${l.address}:${l.port}`;
      if (!index.has(key)) index.set(key, l); // the first compiled wins, as in Istio
    }
    byAddress.set(snapshot, index);
  }
  return index.get(`${address}:${port}`) ?? index.get(`0.0.0.0:${port}`) ?? snapshot.virtualOutbound;
}
