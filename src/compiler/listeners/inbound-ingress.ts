/**
 * Sidecar `ingress` (Istio's buildInboundChainConfigs with SidecarScope.HasIngressListener): when
 * the workload's Sidecar lists ingress listeners, its inbound ports are exactly those, not the
 * ports of the Services that select it (a Service port not listed falls to the passthrough chains,
 * as any undeclared port does). Each listener's protocol is its `port.protocol` (Istio's
 * protocol.Parse: unknown or empty is sniffed), traffic goes to `defaultEndpoint`, and
 * `connectionPool` (else the Sidecar's `inboundConnectionPool`) sets the inbound cluster's limits.
 * `tls` (SIMPLE or MUTUAL, with certificate files) terminates at the sidecar only where the
 * port's PeerAuthentication mode is DISABLE, as Istio does to keep it apart from mTLS; Istio also
 * needs ENABLE_TLS_ON_SIDECAR_INGRESS, which Weft treats as on. `captureMode: NONE` binds a real
 * listener on the port; DEFAULT and IPTABLES become chains of virtualInbound (Weft's compiler does
 * not know a proxy's interception mode; the local runtime's plain mode reaches those chains
 * through its port map).
 */
import type { ClusterLoadAssignment, DownstreamTls, Endpoint } from '../../proxy-config/index.js';
import { parseProtocol, type Protocol } from '../../registry/index.js';
import type { ProxyScope } from '../scope.js';
import type { Sidecar } from '../snapshot/gateways-sidecars.js';
import { terminatingTls } from './gateway.js';

type IngressListener = NonNullable<Sidecar['spec']['ingress']>[number];
type ConnectionPool = IngressListener['connectionPool'];

/** One inbound port as the chain and cluster builders need it, from a Service or a Sidecar ingress. */
export interface InboundPort {
  /** The workload port: the filter chain's destination port and the cluster's name. */
  port: number;
  protocol: Protocol;
  /** `<bind>_<port>`: the chain's (and an own listener's) name. */
  name: string;
  /** A real listener on this address and port (captureMode NONE), not a chain of virtualInbound. */
  bindToPort: boolean;
  bind: string;
  /** Terminate this TLS instead of mTLS (only set where the port's mode is DISABLE). */
  tls?: DownstreamTls;
  endpoint: Pick<Endpoint, 'address' | 'port'>;
  connectionPool: ConnectionPool;
  /** The service behind the port for metrics: a real one on that port, else `<sidecar>.<namespace>`. */
  service: { host: string; name: string; namespace: string; port: number };
  /** The Sidecar ingress listener it came from; absent for a Service-derived port. */
  source?: { kind: 'Sidecar'; namespace: string; name: string; path: string };
}

/** The Sidecar's ingress ports (first listener per port wins), or undefined when it lists none. */
export function sidecarIngressPorts(scope: ProxyScope, modeFor: (port: number) => string): InboundPort[] | undefined {
  const sidecar = scope.sidecar;
  const listeners = sidecar?.spec.ingress;
  if (!sidecar || !listeners || listeners.length === 0) return undefined;
  const targets = scope.instance ? scope.snapshot.registry.serviceTargets(scope.instance) : [];
  const seen = new Set<number>();
  const out: InboundPort[] = [];
  listeners.forEach((l, i) => {
    const port = l.port.number ?? 0;
    if (port <= 0 || seen.has(port)) return;
    seen.add(port);
    let protocol = parseProtocol(l.port.protocol);
    const mode = modeFor(port);
    const tls = l.tls && mode === 'DISABLE' ? downstreamTls(l.tls) : undefined;
    if (tls) protocol = afterTlsTermination(protocol);
    const bind = l.bind ?? '0.0.0.0';
    const real = targets.find((t) => t.targetPort === port);
    out.push({
      port,
      protocol,
      name: `${bind}_${port}`,
      bindToPort: l.captureMode === 'NONE',
      bind,
      ...(tls ? { tls } : {}),
      endpoint: defaultEndpoint(l.defaultEndpoint, scope.node.ip, port),
      connectionPool: l.connectionPool ?? sidecar.spec.inboundConnectionPool,
      service: real
        ? { host: real.service.hostname, name: real.service.name, namespace: real.service.namespace, port: real.port }
        : { host: `${sidecar.metadata.name}.${sidecar.metadata.namespace}`, name: sidecar.metadata.name, namespace: sidecar.metadata.namespace, port },
      source: { kind: 'Sidecar', namespace: sidecar.metadata.namespace, name: sidecar.metadata.name, path: `spec.ingress[${i}]` },
    });
  });
  return out.sort((a, b) => a.port - b.port);
}

/**
 * `127.0.0.1:P` / `[::1]:P`: loopback; `0.0.0.0:P` / `[::]:P`: the pod's address; `unix:///path`:
 * that socket; absent: the pod's address on the listener's own port (where a Service-derived
 * inbound cluster sends it). Validation has already checked the form.
 */
export function defaultEndpoint(text: string | undefined, podIp: string, port: number): Pick<Endpoint, 'address' | 'port'> {
  if (text === undefined || text === '') return { address: podIp, port };
  if (text.startsWith('unix://')) return { address: text, port: 0 };
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[|\]$/g, '');
  const p = Number(text.slice(colon + 1));
  return { address: host === '0.0.0.0' || host === '::' ? podIp : host, port: p };
}

/** Istio's Protocol.AfterTLSTermination: what is left once the sidecar took the TLS off. */
function afterTlsTermination(p: Protocol): Protocol {
  if (p === 'HTTPS') return 'HTTP';
  if (p === 'TLS') return 'TCP';
  return p;
}

/**
 * The server certificate from files in the pod (a Sidecar cannot name a credential). The secret
 * names are the same `file-cert:` / `file-root:` forms gateways use; the proxy reads the files.
 */
function downstreamTls(tls: NonNullable<IngressListener['tls']>): DownstreamTls | undefined {
  if (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL' && tls.mode !== 'OPTIONAL_MUTUAL') return undefined;
  const certificate = `file-cert:${tls.serverCertificate ?? ''}~${tls.privateKey ?? ''}`;
  const ca = tls.mode !== 'SIMPLE' && tls.caCertificates ? `file-root:${tls.caCertificates}` : undefined;
  return terminatingTls(tls.mode, certificate, ca, tls);
}

/** The `inbound|<port>||` assignment of an ingress port. */
export function ingressAssignment(scope: ProxyScope, cluster: string, p: InboundPort): ClusterLoadAssignment {
  const inst = scope.instance;
  return {
    cluster,
    endpoints: [{
      address: p.endpoint.address,
      port: p.endpoint.port,
      weight: 1,
      labels: { ...(inst?.labels ?? scope.node.labels) },
      workload: { name: inst?.workload ?? scope.node.workload, namespace: scope.node.namespace, serviceAccount: inst?.serviceAccount ?? scope.node.serviceAccount },
      tlsMode: 'disabled',
      healthy: true,
    }],
  };
}
