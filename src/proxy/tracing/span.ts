/**
 * Request and connection events as Zipkin v2 spans, tagged as Envoy's tracer and Istio's custom
 * tags tag them (Envoy's HttpTracerUtility; Istio's bootstrap `istio.*` tags), so a Zipkin UI or
 * Grafana shows what it shows for Istio. Servers (inbound sidecars, gateways) record SERVER
 * spans, sidecars' outbound side CLIENT spans. Service names follow Istio's default
 * tracingServiceName, APP_LABEL_AND_NAMESPACE: `productpage.default`.
 */
import type { ProxyConfig, ProxyNode } from '../../proxy-config/index.js';
import type { ConnectionEvent, RequestEvent } from '../events.js';
import { newSpanId, newTraceId } from './context.js';

/** Zipkin's v2 span model (zipkin-api's zipkin2-api.yaml), as POSTed to `/api/v2/spans`. */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  /** Epoch microseconds. */
  timestamp: number;
  /** Microseconds. */
  duration: number;
  debug?: boolean;
  shared?: boolean;
  localEndpoint: ZipkinEndpoint;
  remoteEndpoint?: ZipkinEndpoint;
  tags: Record<string, string>;
}

export interface ZipkinEndpoint {
  serviceName?: string;
  ipv4?: string;
  ipv6?: string;
  port?: number;
}

/** Per node: the tags and endpoint every span of that proxy carries (computed once per config). */
interface NodeTags {
  local: ZipkinEndpoint;
  tags: Record<string, string>;
}

const nodeTags = new WeakMap<ProxyConfig, NodeTags>();

function forNode(config: ProxyConfig): NodeTags {
  let cached = nodeTags.get(config);
  if (cached === undefined) {
    cached = computeNodeTags(config.node, config.mesh.trustDomain);
    nodeTags.set(config, cached);
  }
  return cached;
}

function computeNodeTags(node: ProxyNode, trustDomain: string): NodeTags {
  const l = node.labels;
  const app = l.app ?? l['service.istio.io/canonical-name'] ?? node.workload;
  const kind = node.role === 'sidecar' ? 'sidecar' : 'router';
  return {
    local: { serviceName: `${app}.${node.namespace}`, ...ipField(node.ip) },
    tags: {
      // Envoy's node id as Istio builds it: `sidecar~10.0.0.1~reviews-v1-0.default~default.svc.cluster.local`.
      node_id: `${kind}~${node.ip}~${node.id}~${node.namespace}.svc.cluster.local`,
      zone: l['topology.kubernetes.io/zone'] ?? '',
      component: 'proxy',
      'istio.canonical_service': l['service.istio.io/canonical-name'] ?? l['app.kubernetes.io/name'] ?? l.app ?? node.workload,
      'istio.canonical_revision': l['service.istio.io/canonical-revision'] ?? l['app.kubernetes.io/version'] ?? l.version ?? 'latest',
      // meshConfig.meshId defaults to the trust domain.
      'istio.mesh_id': trustDomain,
      'istio.namespace': node.namespace,
      'istio.cluster_id': 'Kubernetes',
    },
  };
}

function ipField(address: string): Pick<ZipkinEndpoint, 'ipv4' | 'ipv6'> {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(a)) return { ipv4: a };
  if (a.includes(':')) return { ipv6: a };
  return {};
}

/** The upstream host (`10.0.0.1:9080`, `[::1]:9080`) as a Zipkin endpoint. */
function upstreamEndpoint(hostPort: string, serviceName: string | undefined): ZipkinEndpoint | undefined {
  if (hostPort === '') return serviceName ? { serviceName } : undefined;
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(hostPort);
  const port = m ? Number(m[2]) : 0;
  return { ...(serviceName ? { serviceName } : {}), ...ipField(m ? (m[1] ?? '') : hostPort), ...(port > 0 && port < 65536 ? { port } : {}) };
}

/** The downstream peer, an address without a port. */
function downstreamEndpoint(address: string): ZipkinEndpoint | undefined {
  const ip = ipField(address);
  return ip.ipv4 || ip.ipv6 ? ip : undefined;
}

type ClusterService = NonNullable<ProxyConfig['clusters'][number]['service']>;
const servicesByConfig = new WeakMap<ProxyConfig, Map<string, ClusterService>>();

function serviceOf(config: ProxyConfig, cluster: string): ClusterService | undefined {
  let services = servicesByConfig.get(config);
  if (services === undefined) {
    services = new Map(config.clusters.flatMap((c) => (c.service ? [[c.name, c.service] as const] : [])));
    servicesByConfig.set(config, services);
  }
  return services.get(cluster);
}

/** The span of one sampled HTTP request. */
export function requestSpan(ev: RequestEvent): ZipkinSpan | undefined {
  const trace = ev.trace;
  if (trace === undefined) return undefined;
  const node = forNode(ev.config);
  const client = ev.direction === 'outbound';
  const service = client ? serviceOf(ev.config, ev.cluster) : undefined;
  const error = ev.status === 0 || ev.status >= 500 || (ev.grpc && ev.grpcStatus !== '' && ev.grpcStatus !== '0');
  const tags: Record<string, string> = {
    ...node.tags,
    'guid:x-request-id': ev.requestId,
    'http.url': trace.url,
    'http.method': ev.method,
    downstream_cluster: '-',
    user_agent: ev.userAgent === '' ? '-' : ev.userAgent,
    'http.protocol': ev.protocol,
    'peer.address': ev.downstreamRemoteAddress,
    request_size: String(ev.bytesReceived),
    response_size: String(ev.bytesSent),
    upstream_cluster: ev.cluster === '' ? '-' : ev.cluster,
    'upstream_cluster.name': ev.cluster === '' ? '-' : ev.cluster,
    'http.status_code': String(ev.status),
    response_flags: ev.flags === '' ? '-' : ev.flags,
  };
  if (ev.grpc) tags['grpc.status_code'] = ev.grpcStatus === '' ? '-' : ev.grpcStatus;
  if (error) tags.error = 'true';
  const remoteEndpoint = client ? upstreamEndpoint(ev.upstreamHost, service ? `${service.name}.${service.namespace}` : undefined) : downstreamEndpoint(ev.downstreamRemoteAddress);
  return {
    traceId: trace.traceId,
    id: trace.spanId,
    ...(trace.parentId !== undefined ? { parentId: trace.parentId } : {}),
    name: trace.operation,
    kind: client ? 'CLIENT' : 'SERVER',
    timestamp: trace.startMicros,
    duration: Math.max(1, Math.round(ev.durationMs * 1000)),
    ...(trace.debug ? { debug: true } : {}),
    localEndpoint: node.local,
    ...(remoteEndpoint ? { remoteEndpoint } : {}),
    tags,
  };
}

/**
 * A TCP connection as its own trace (bytes carry no trace context): named after the destination
 * service (`kafka.default.svc.cluster.local:9092`), or the cluster when it has none.
 */
export function connectionSpan(ev: ConnectionEvent): ZipkinSpan {
  const node = forNode(ev.config);
  const service = serviceOf(ev.config, ev.cluster);
  const client = ev.direction === 'outbound';
  const tags: Record<string, string> = {
    ...node.tags,
    'peer.address': ev.downstreamRemoteAddress,
    request_size: String(ev.bytesReceived),
    response_size: String(ev.bytesSent),
    upstream_cluster: ev.cluster === '' ? '-' : ev.cluster,
    'upstream_cluster.name': ev.cluster === '' ? '-' : ev.cluster,
    'upstream_host': ev.upstreamHost === '' ? '-' : ev.upstreamHost,
    response_flags: ev.flags === '' ? '-' : ev.flags,
    'net.transport': 'tcp',
  };
  if (ev.flags !== '') tags.error = 'true';
  const remoteEndpoint = client ? upstreamEndpoint(ev.upstreamHost, service ? `${service.name}.${service.namespace}` : undefined) : downstreamEndpoint(ev.downstreamRemoteAddress);
  return {
    traceId: newTraceId(),
    id: newSpanId(),
    name: service ? `${service.host}:${service.port}` : ev.cluster || ev.listener,
    kind: client ? 'CLIENT' : 'SERVER',
    timestamp: ev.startTime * 1000,
    duration: Math.max(1, Math.round(ev.durationMs * 1000)),
    localEndpoint: node.local,
    ...(remoteEndpoint ? { remoteEndpoint } : {}),
    tags,
  };
}
