/**
 * A stable address for each revision's control plane, as istiod's Service gives proxies in
 * Kubernetes. Proxies are started with the control plane pods' own addresses and this one last:
 * when every pod they knew is gone (an istiod rollout gives the new pods new addresses) the
 * client's failover reaches this address, which forwards to whichever control plane pods of the
 * revision run now. TLS passes through untouched: the proxy checks the certificate's name
 * (istiod[-<rev>].<ns>.svc), not the address it dialled. Plain network: a loopback address of the mesh with a forwarder on the push
 * port; netns network: the VIP of a Service selecting those pods (DNATed to ready ones).
 */
import type { Logger } from '../lib/log.js';
import { TcpForwarder, type Backend } from './forward.js';

/** Istio's push port over TLS (15012), the one proxies use; 15010 (plaintext) stays served but unused here. */
export const TLS_PUSH_PORT = 15012;
export const PUSH_PORT = TLS_PUSH_PORT;

export interface ControlPlaneServiceOptions {
  /** `ip:port` of the revision's running control plane pods. */
  pods(revision: string): string[];
  /** Plain: a fresh address of the mesh (synchronous); undefined when the network has none to give. */
  allocate: (() => string) | undefined;
  /** netns: the VIP of a Service on the push port selecting the revision's control plane pods. */
  serviceVip(revision: string): string | undefined;
  log: Logger;
}

export class ControlPlaneServices {
  readonly #o: ControlPlaneServiceOptions;
  readonly #plain = new Map<string, { address: string; forwarder: TcpForwarder }>();

  constructor(options: ControlPlaneServiceOptions) {
    this.#o = options;
  }

  /** `host:port` proxies of a revision can always reach its control plane at, if there is one. */
  address(revision: string): string | undefined {
    if (!this.#o.allocate) {
      const vip = this.#o.serviceVip(revision);
      return vip ? `${vip}:${PUSH_PORT}` : undefined;
    }
    const existing = this.#plain.get(revision);
    if (existing) return `${existing.address}:${PUSH_PORT}`;
    const address = this.#o.allocate();
    const forwarder = new TcpForwarder(() => this.#o.pods(revision).map(backend).filter((b): b is Backend => b !== undefined));
    forwarder.listen(PUSH_PORT, address).catch((err: Error) => this.#o.log.error('cannot listen for the control plane service', { revision, address, error: err.message }));
    this.#plain.set(revision, { address, forwarder });
    return `${address}:${PUSH_PORT}`;
  }

  close(): void {
    for (const s of this.#plain.values()) s.forwarder.close();
    this.#plain.clear();
  }
}

function backend(hostPort: string): Backend | undefined {
  const i = hostPort.lastIndexOf(':');
  const port = Number(hostPort.slice(i + 1));
  return i > 0 && Number.isInteger(port) ? { address: hostPort.slice(0, i), port } : undefined;
}
