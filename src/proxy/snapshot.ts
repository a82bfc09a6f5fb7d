/**
 * One applied config, indexed once so the request path only looks things up (Istio's
 * PushContext in miniature). A snapshot is never changed after it is built: a request holds the
 * snapshot it started with, and a new config is a new snapshot swapped in whole.
 */
import type { ProxyConfig, Listener, RouteConfiguration, Cluster } from '../proxy-config/index.js';

/** Istio's well-known capture ports; listeners compiled for them are served on the bootstrap's ports. */
export const OUTBOUND_CAPTURE_PORT = 15001;
export const INBOUND_CAPTURE_PORT = 15006;

export class ConfigSnapshot {
  readonly config: ProxyConfig;
  readonly version: string;
  readonly appliedAt: Date;
  readonly listeners = new Map<string, Listener>();
  /** Sidecar outbound listeners by the destination port they serve (`0.0.0.0_9080` under 9080). */
  readonly outboundByPort = new Map<number, Listener>();
  /** The catch-all outbound listener (virtualOutbound, port 15001), for ports no listener names. */
  readonly virtualOutbound: Listener | undefined;
  /** The inbound capture listener (virtualInbound, port 15006). */
  readonly virtualInbound: Listener | undefined;
  /** Inbound listeners that bind their own port rather than sharing the capture port. */
  readonly inboundOwnPorts: Listener[] = [];
  readonly gatewayByPort = new Map<number, Listener>();
  readonly routeConfigs = new Map<string, RouteConfiguration>();
  readonly clusters = new Map<string, Cluster>();

  constructor(config: ProxyConfig, appliedAt: Date) {
    this.config = config;
    this.version = config.version;
    this.appliedAt = appliedAt;
    let virtualOutbound: Listener | undefined;
    let virtualInbound: Listener | undefined;
    for (const l of config.listeners) {
      this.listeners.set(l.name, l);
      if (l.direction === 'outbound') {
        if (l.port === OUTBOUND_CAPTURE_PORT || l.name === 'virtualOutbound') virtualOutbound ??= l;
        // With several listeners on one port (TCP services on VIPs), the first one compiled wins:
        // an HTTP proxy request carries a port but no VIP to choose between them.
        else if (!this.outboundByPort.has(l.port)) this.outboundByPort.set(l.port, l);
      } else if (l.direction === 'inbound') {
        if (l.port === INBOUND_CAPTURE_PORT || l.name === 'virtualInbound') virtualInbound ??= l;
        else this.inboundOwnPorts.push(l);
      } else {
        this.gatewayByPort.set(l.port, l);
      }
    }
    this.virtualOutbound = virtualOutbound;
    this.virtualInbound = virtualInbound;
    for (const rc of config.routes) this.routeConfigs.set(rc.name, rc);
    for (const c of config.clusters) this.clusters.set(c.name, c);
  }
}
