/**
 * The service registry's model: what the mesh knows about services, their ports and endpoints,
 * and the running workloads behind them, derived from Kubernetes Services, ServiceEntries,
 * WorkloadEntries and the pods (or VMs) the runtime reports. Istio's model.Service and
 * model.IstioEndpoint, in the few fields Weft's compiler reads.
 */
import type { Protocol } from './protocol.js';
import type { AuthzProviderOption } from './authz-providers.js';

export type { Protocol };

/** One running pod or VM, as the local runtime (or a Kubernetes watch) reports it. */
export interface WorkloadInstance {
  /** Pod name, e.g. `reviews-v1-0`. */
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ip: string;
  serviceAccount: string;
  /** Container ports, with their names for Service targetPort resolution. */
  ports: ContainerPort[];
  /** The pod runs a Weft proxy: an injected sidecar or a gateway. */
  hasSidecar: boolean;
  /**
   * `istio` when clients may send it Istio mTLS: the label Istio's injector puts on sidecar pods
   * (`security.istio.io/tlsMode`). Gateways do not carry it: their ports are reached as declared.
   */
  tlsMode: 'istio' | 'disabled';
  /** The owning workload (Deployment) name, for metrics and the proxy's identity. */
  workload: string;
  /**
   * Ready and not terminating: only such instances are endpoints of services. An unready pod's
   * own proxy still gets its inbound config from it (Istio builds a proxy's service targets from
   * its pod whatever its readiness), so a terminating pod keeps serving what still reaches it.
   */
  ready: boolean;
  /** `region/zone/subzone`, from the pod's `istio-locality` label (Istio: that label, else its node's topology labels). */
  locality?: string;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

/** Where a registry entry came from, in the compiler's ConfigSource shape. */
export interface RegistrySource {
  kind: 'Service' | 'ServiceEntry' | 'WorkloadEntry';
  namespace: string;
  name: string;
}

export interface ServicePort {
  /** Port name; ServiceEntry and multi-port Services always name ports. */
  name: string;
  port: number;
  protocol: Protocol;
  /** Kubernetes targetPort (a number or a container port name); ServiceEntry targetPort. */
  targetPort?: number | string;
}

/**
 * Istio's resolution of a service: EDS (pods or static endpoints known to the control plane),
 * DNS (the proxy resolves names), PASSTHROUGH (resolution NONE: forward to the original address).
 */
export type Resolution = 'EDS' | 'DNS' | 'DNS_ROUND_ROBIN' | 'PASSTHROUGH';

/** The namespaces a service or config is visible in: `*` for all, else a set of names. */
export type Visibility = { public: true } | { public: false; namespaces: ReadonlySet<string> };

export interface Service {
  /** FQDN (`reviews.default.svc.cluster.local`) or a ServiceEntry host (`*.example.com` allowed). */
  hostname: string;
  /** Short name: the Kubernetes Service name, or the ServiceEntry host. */
  name: string;
  namespace: string;
  ports: ServicePort[];
  /** The virtual IP the proxy matches TCP traffic on; absent for headless services and hosts without one. */
  vip?: string;
  /** All addresses (ServiceEntry `addresses` may list several, and CIDRs). */
  addresses: string[];
  resolution: Resolution;
  location: 'MESH_INTERNAL' | 'MESH_EXTERNAL';
  exportTo: Visibility;
  /** Kubernetes Service selector or ServiceEntry workloadSelector labels. */
  selector?: Record<string, string>;
  /** Creation time as written (often empty in files), for Istio's oldest-first tie breaks. */
  creationTimestamp: string;
  source: RegistrySource;
  /** Istio's DNS auto-allocated address (240.240.0.0/16) for a ServiceEntry host without addresses, for the runtime's DNS only. */
  autoAllocatedVip?: string;
}

/** One address serving one port of one service (Istio's IstioEndpoint). */
export interface ServiceEndpoint {
  hostname: string;
  /** Namespace of the service (a ServiceEntry host may exist in several). */
  serviceNamespace: string;
  /** The service port number this endpoint serves. */
  servicePort: number;
  address: string;
  /** The port to connect to (targetPort resolved). */
  port: number;
  labels: Record<string, string>;
  workload?: { name: string; namespace: string; serviceAccount: string };
  /** `istio` when the endpoint runs a proxy (auto mTLS sends ISTIO_MUTUAL), else `disabled`. */
  tlsMode: 'istio' | 'disabled';
  weight: number;
  healthy: boolean;
  /** `region/zone/subzone` (pod, WorkloadEntry `locality` or ServiceEntry endpoint `locality`); absent: none. */
  locality?: string;
}

/** The mesh-wide options the registry and compiler read (from meshConfig, with Istio's defaults). */
export interface MeshOptions {
  rootNamespace: string;
  domainSuffix: string;
  trustDomain: string;
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  enableAutoMtls: boolean;
  /** meshConfig.connectTimeout in ms (Istio: 10s). */
  connectTimeoutMs: number;
  /** meshConfig.defaultHttpRetryPolicy; absent: Istio's built-in default. */
  defaultHttpRetryPolicy?: { attempts?: number; perTryTimeoutMs?: number; retryOn?: string; retryRemoteLocalities?: boolean; backoffMs?: number };
  pathNormalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
  accessLog?: { encoding: 'TEXT' | 'JSON'; format?: string; file?: string };
  /**
   * meshConfig.extensionProviders that are file access logs (envoyFileAccessLog), by name, for
   * Telemetry resources to name: Istio's built-in `envoy` (/dev/stdout) plus the configured ones.
   * Providers of other kinds are listed as `null` (known names that write no file log here).
   */
  accessLogProviders?: Record<string, { encoding: 'TEXT' | 'JSON'; format?: string; file?: string } | null>;
  /** meshConfig.defaultProviders.accessLogging. */
  defaultAccessLogProviders?: string[];
  tracing?: { samplingPercent: number; zipkinAddress?: string };
  /** Extension providers and defaults Telemetry tracing and metrics name (registry/mesh-tracing.ts). */
  telemetryProviders?: TelemetryProviders;
  defaultServiceExportTo: string[];
  defaultVirtualServiceExportTo: string[];
  defaultDestinationRuleExportTo: string[];
  /**
   * meshConfig.localityLbSetting: the mesh default when a DestinationRule sets none. Istio's default
   * is `{enabled: true}` (failover by locality, effective only where outlier detection is on).
   */
  localityLbSetting?: MeshLocalityLbSetting;
  /** meshConfig.extensionProviders for CUSTOM AuthorizationPolicies (envoyExtAuthzHttp / envoyExtAuthzGrpc), by name. */
  authzProviders?: Record<string, AuthzProviderOption>;
  /** meshConfig.h2UpgradePolicy: the default for outbound HTTP clusters (DestinationRules override it). */
  h2UpgradePolicy?: 'DO_NOT_UPGRADE' | 'UPGRADE';
  /** meshConfig.tcpKeepalive (durations in ms): SO_KEEPALIVE on every cluster's connections. */
  tcpKeepalive?: { probes?: number; time?: number; interval?: number };
}

/** networking.v1alpha3.LocalityLoadBalancerSetting, as the compiler reads it. */
export interface MeshLocalityLbSetting {
  distribute?: { from?: string; to?: Record<string, number> }[];
  failover?: { from?: string; to?: string }[];
  failoverPriority?: string[];
  enabled?: boolean | null;
}

/** A tracing extension provider as proxies use it: a Zipkin address, or an OTLP/HTTP exporter. */
export type TraceCollector =
  | { zipkinAddress: string }
  | { otlp: { url: string; timeoutMs?: number; headers?: { name: string; value?: string; envName?: string }[] } };

export interface TelemetryProviders {
  /** Providers by name; null: a provider that sends no spans here (other kinds, OTLP over gRPC). */
  tracing: Record<string, TraceCollector | null>;
  /** meshConfig.defaultProviders.tracing[0]. */
  defaultTracing?: string;
  /** Sampling when Telemetry sets none: defaultConfig.tracing.sampling, else values.pilot.traceSampling, else 1. */
  samplingPercent: number;
  /** Names of `prometheus` providers (Istio's built-in `prometheus` included). */
  prometheus: string[];
  /** meshConfig.defaultProviders.metrics (Istio's default: prometheus). */
  defaultMetrics: string[];
}
