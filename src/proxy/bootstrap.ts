/**
 * The proxy's bootstrap: what it needs before any config arrives (Envoy's bootstrap file in
 * Istio's pod). Which ports to bind and where, how a gateway's ports map to ports an
 * unprivileged process may bind, and the timeouts of the downstream side. From CLI flags or a
 * small JSON file; every field has Istio's default.
 */
import { shape, checkShape } from './config-schema.js';
import type { ProxyRole } from '../proxy-config/index.js';
import type { ConfigSnapshot } from './snapshot.js';
import type { AppProbers } from './app-health.js';
import type { PortSpec } from './listeners/ports.js';

export interface Bootstrap {
  /** Overrides the config's node.role (which ports are bound: capture ports only for sidecars). */
  role: ProxyRole | undefined;
  /** Where listeners bind: the pod IP in the local runtime, 0.0.0.0 by default. */
  bindAddress: string;
  /** Admin stays on loopback, as Envoy's admin in Istio. */
  adminAddress: string;
  /**
   * `prometheus` (15090) serves the proxy's metrics, `status` (15020) the same merged with the
   * app's (pilot-agent's port in Istio); absent: not served.
   */
  ports: { outbound: number; inbound: number; admin: number; health: number; prometheus?: number; status?: number };
  /** Where the app serves Prometheus metrics (the pod's prometheus.io/port and /path), merged on the status port. */
  appMetrics?: { port: number; path: string };
  /** Listener port -> bound port (`80=8080`): a gateway's port 80 served on 8080 without root. */
  portMap: Map<number, number>;
  /** Bound port -> workload port for the inbound side (`19080=9080`), where there is no iptables capture. */
  inboundPortMap: Map<number, number>;
  /**
   * Istio's INTERCEPTION_MODE. REDIRECT: iptables sends the pod's traffic to the capture ports and
   * each connection is served by its original destination (listeners/capture.ts). NONE: 15001 is
   * an HTTP proxy for apps with HTTP_PROXY, and inbound uses port maps.
   */
  interceptionMode: 'NONE' | 'REDIRECT';
  /**
   * Where the app listens, when not on the pod address (the local runtime's plain network mode:
   * the sidecar holds the pod address's ports): inbound clusters' endpoints are sent here.
   */
  appAddress: string | undefined;
  /** Istio's rewritten app probes, served on the status port at `/app-health/...` (app-health.ts). */
  appProbers?: AppProbers;
  /** How long SIGTERM waits for in-flight requests (Istio's terminationDrainDuration, 5s). */
  drainTimeoutMs: number;
  /** A request's headers must arrive within this; slow clients get 408. */
  headersTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  idleTimeoutMs: number;
  /** Envoy's max_request_headers_kb default: 60 KiB; more gets 431. */
  maxHeaderBytes: number;
}

export const DEFAULT_BOOTSTRAP: Bootstrap = {
  role: undefined,
  bindAddress: '0.0.0.0',
  adminAddress: '127.0.0.1',
  ports: { outbound: 15001, inbound: 15006, admin: 15000, health: 15021, prometheus: 15090, status: 15020 },
  portMap: new Map(),
  inboundPortMap: new Map(),
  interceptionMode: 'NONE',
  appAddress: undefined,
  drainTimeoutMs: 5000,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxHeaderBytes: 60 * 1024,
};

// Checked with the proxy's own small shape checks, not zod: a sidecar should not load a schema
// library at all (it costs about 8 MB of idle memory per proxy).
const port = shape.num({ int: true, min: 0, max: 65535 });
const portKeyMap = shape.record(shape.str({ pattern: /^\d+$/, message: 'must be a port number' }), port);
const bootstrapFile = shape.obj({
  role: shape.opt(shape.oneOf(['sidecar', 'ingress-gateway', 'egress-gateway'])),
  bindAddress: shape.opt(shape.str()),
  adminAddress: shape.opt(shape.str()),
  ports: shape.opt(shape.obj({ outbound: shape.opt(port), inbound: shape.opt(port), admin: shape.opt(port), health: shape.opt(port), prometheus: shape.opt(port), status: shape.opt(port) }, { strict: true })),
  appMetrics: shape.opt(shape.obj({ port, path: shape.opt(shape.str({ pattern: /^\//, message: 'must start with /' })) }, { strict: true })),
  portMap: shape.opt(portKeyMap),
  inboundPortMap: shape.opt(portKeyMap),
  interceptionMode: shape.opt(shape.oneOf(['NONE', 'REDIRECT'])),
  appAddress: shape.opt(shape.str()),
  drainTimeoutMs: shape.opt(shape.num({ int: true, min: 0 })),
  headersTimeoutMs: shape.opt(shape.num({ int: true, min: 1 })),
  idleTimeoutMs: shape.opt(shape.num({ int: true, min: 1 })),
  maxHeaderBytes: shape.opt(shape.num({ int: true, min: 1024 })),
}, { strict: true });

/** A bootstrap file as written: every field optional, over the defaults. */
interface BootstrapFile {
  role?: ProxyRole;
  bindAddress?: string;
  adminAddress?: string;
  ports?: Partial<Bootstrap['ports']>;
  portMap?: Record<string, number>;
  inboundPortMap?: Record<string, number>;
  appMetrics?: { port: number; path?: string };
  interceptionMode?: Bootstrap['interceptionMode'];
  appAddress?: string;
  drainTimeoutMs?: number;
  headersTimeoutMs?: number;
  idleTimeoutMs?: number;
  maxHeaderBytes?: number;
}

/** Reads a bootstrap JSON document over the defaults; throws with every problem named. */
export function parseBootstrap(value: unknown, base: Bootstrap = DEFAULT_BOOTSTRAP): Bootstrap {
  const issues = checkShape(bootstrapFile, value);
  if (issues.length > 0) throw new Error(`invalid bootstrap: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  const b = value as BootstrapFile;
  return {
    role: b.role ?? base.role,
    bindAddress: b.bindAddress ?? base.bindAddress,
    adminAddress: b.adminAddress ?? base.adminAddress,
    ports: { ...base.ports, ...b.ports },
    portMap: b.portMap ? numberMap(b.portMap) : base.portMap,
    inboundPortMap: b.inboundPortMap ? numberMap(b.inboundPortMap) : base.inboundPortMap,
    ...(b.appMetrics ? { appMetrics: { port: b.appMetrics.port, path: b.appMetrics.path ?? '/metrics' } } : base.appMetrics ? { appMetrics: base.appMetrics } : {}),
    interceptionMode: b.interceptionMode ?? base.interceptionMode,
    appAddress: b.appAddress ?? base.appAddress,
    drainTimeoutMs: b.drainTimeoutMs ?? base.drainTimeoutMs,
    headersTimeoutMs: b.headersTimeoutMs ?? base.headersTimeoutMs,
    idleTimeoutMs: b.idleTimeoutMs ?? base.idleTimeoutMs,
    maxHeaderBytes: b.maxHeaderBytes ?? base.maxHeaderBytes,
  };
}

function numberMap(record: Record<string, number>): Map<number, number> {
  return new Map(Object.entries(record).map(([k, v]) => [Number(k), v]));
}

/** `80=8080,443=8443` -> Map {80 => 8080, 443 => 8443}; throws on anything else. */
export function parsePortMap(text: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^(\d{1,5})=(\d{1,5})$/.exec(part);
    const from = Number(m?.[1]);
    const to = Number(m?.[2]);
    if (!m || from < 1 || from > 65535 || to > 65535) throw new Error(`invalid port mapping ${JSON.stringify(part)}: expected PORT=PORT, e.g. 80=8080`);
    map.set(from, to);
  }
  return map;
}

/** The ports a config needs bound under this bootstrap. */
export function portSpecs(bootstrap: Bootstrap, snapshot: ConfigSnapshot): PortSpec[] {
  const role = bootstrap.role ?? snapshot.config.node.role;
  const address = bootstrap.bindAddress;
  const specs: PortSpec[] = [];
  if (role === 'sidecar') {
    // iptables REDIRECT sends outbound connections to 127.0.0.1 and inbound ones to the pod IP:
    // in the pod's own namespace the capture ports listen on every address.
    const redirect = bootstrap.interceptionMode === 'REDIRECT';
    const capture = redirect ? { capture: true } : {};
    const captureAddress = redirect ? '0.0.0.0' : address;
    specs.push({ key: 'outbound', address: captureAddress, port: bootstrap.ports.outbound, binding: { kind: 'outbound', ...capture } });
    specs.push({ key: 'inbound', address: captureAddress, port: bootstrap.ports.inbound, binding: { kind: 'inbound', destinationPort: undefined, ...capture } });
    // A listener of its own (Sidecar ingress captureMode NONE) takes its port from the port map.
    const own = new Set(snapshot.inboundOwnPorts.map((l) => bootstrap.portMap.get(l.port) ?? l.port));
    for (const [bound, workload] of bootstrap.inboundPortMap) {
      if (own.has(bound)) continue;
      specs.push({ key: `inbound-map:${bound}`, address, port: bound, binding: { kind: 'inbound', destinationPort: workload } });
    }
    for (const l of snapshot.inboundOwnPorts) {
      specs.push({ key: `inbound:${l.port}`, address, port: bootstrap.portMap.get(l.port) ?? l.port, binding: { kind: 'inbound-own', port: l.port } });
    }
  }
  for (const p of snapshot.gatewayByPort.keys()) {
    specs.push({ key: `gateway:${p}`, address, port: bootstrap.portMap.get(p) ?? p, binding: { kind: 'gateway', port: p } });
  }
  return specs;
}

/** Istio's InboundPassthroughBindIpv4: where a captured sidecar's connections to its own app come from. */
export const INBOUND_UPSTREAM_BIND = '127.0.0.6';

/**
 * Under iptables capture (REDIRECT), the sidecar's connections to its own pod address go back to
 * 15006 (so an app calling its own service passes its inbound side), except those from
 * 127.0.0.6: inbound clusters (`inbound|<port>||`, InboundPassthroughClusterIpv4) connect from
 * there, as Istio's inbound clusters set upstream_bind_config. Without capture nothing is bound
 * (127.0.0.6 is not a local address everywhere, e.g. macOS).
 */
export function withInboundBind<C extends { name: string; upstreamBindAddress?: string }>(bootstrap: Bootstrap, clusters: readonly C[]): C[] {
  if (bootstrap.interceptionMode !== 'REDIRECT') return [...clusters];
  return clusters.map((c) => (isInboundCluster(c.name) && c.upstreamBindAddress === undefined ? { ...c, upstreamBindAddress: INBOUND_UPSTREAM_BIND } : c));
}

function isInboundCluster(name: string): boolean {
  return name.startsWith('inbound|') || name === 'InboundPassthroughClusterIpv4';
}

/** Inbound clusters (`inbound|<port>||`) sent to the app's own address when the bootstrap names one. */
export function withAppAddress<A extends { cluster: string; endpoints: readonly { address: string }[] }>(bootstrap: Bootstrap, assignments: readonly A[]): A[] {
  const app = bootstrap.appAddress;
  if (app === undefined) return [...assignments];
  // A Unix domain socket (Sidecar ingress defaultEndpoint) stays where it is.
  return assignments.map((a) => (a.cluster.startsWith('inbound|') ? { ...a, endpoints: a.endpoints.map((e) => (e.address.startsWith('unix://') ? e : { ...e, address: app })) } : a));
}
