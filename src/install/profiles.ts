/**
 * Installation profiles, as istioctl layers them: every profile starts from `default`
 * (manifests/profiles/default.yaml) and the named profile is merged on top. The demo profile's
 * values come from the charts' files/profile-demo.yaml: Istio's newer releases select those
 * through `values.profile`; here they are written out so the installed spec shows them.
 * One chart default is written out too: the injected proxy's resources, so whoever injects reads
 * them from the installed spec. The others (replicas, autoscaling, gateway ports) stay chart
 * defaults (chart-defaults.ts), as in Istio, where validation warns when k8s.replicaCount is set
 * while autoscaleEnabled is, and writing `autoscaleEnabled: true` here would trigger that.
 */
import { mergeFrom, type PlainMap } from './objects.js';

export const SUPPORTED_PROFILES = ['default', 'demo', 'minimal', 'empty'] as const;
export type SupportedProfile = (typeof SUPPORTED_PROFILES)[number];

const smallRequests = { requests: { cpu: '10m', memory: '40Mi' } };

/** The demo profile adds Istio's TCP and SNI-passthrough ports to the ingress gateway. */
const DEMO_INGRESS_PORTS = [
  { port: 15021, targetPort: 15021, name: 'status-port' },
  { port: 80, targetPort: 8080, name: 'http2' },
  { port: 443, targetPort: 8443, name: 'https' },
  { port: 31400, targetPort: 31400, name: 'tcp' },
  { port: 15443, targetPort: 15443, name: 'tls' },
];

const DEFAULT: PlainMap = {
  components: {
    base: { enabled: true },
    pilot: { enabled: true },
    ingressGateways: [{ name: 'istio-ingressgateway', enabled: true }],
    egressGateways: [{ name: 'istio-egressgateway', enabled: false }],
  },
  values: {
    defaultRevision: '',
    global: {
      istioNamespace: 'istio-system',
      configValidation: true,
      // The injected istio-proxy container (istio-discovery values.yaml global.proxy.resources).
      proxy: { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2000m', memory: '1024Mi' } } },
    },
  },
};

const OVERLAYS: Record<SupportedProfile, PlainMap> = {
  default: {},
  demo: {
    meshConfig: {
      accessLogFile: '/dev/stdout',
      extensionProviders: [
        { name: 'otel', envoyOtelAls: { service: 'opentelemetry-collector.observability.svc.cluster.local', port: 4317 } },
        { name: 'skywalking', skywalking: { service: 'tracing.istio-system.svc.cluster.local', port: 11800 } },
        { name: 'otel-tracing', opentelemetry: { port: 4317, service: 'opentelemetry-collector.observability.svc.cluster.local' } },
        { name: 'jaeger', opentelemetry: { port: 4317, service: 'jaeger-collector.istio-system.svc.cluster.local' } },
      ],
    },
    components: { egressGateways: [{ name: 'istio-egressgateway', enabled: true }] },
    values: {
      global: { proxy: { resources: smallRequests } },
      pilot: { autoscaleEnabled: false, traceSampling: 100, resources: { requests: { cpu: '10m', memory: '100Mi' } } },
      gateways: {
        'istio-egressgateway': { autoscaleEnabled: false, resources: smallRequests },
        'istio-ingressgateway': { autoscaleEnabled: false, ports: DEMO_INGRESS_PORTS, resources: smallRequests },
      },
    },
  },
  minimal: { components: { ingressGateways: [{ name: 'istio-ingressgateway', enabled: false }] } },
  empty: {
    components: {
      base: { enabled: false },
      pilot: { enabled: false },
      ingressGateways: [{ name: 'istio-ingressgateway', enabled: false }],
    },
  },
};

export function isSupportedProfile(name: string): name is SupportedProfile {
  return (SUPPORTED_PROFILES as readonly string[]).includes(name);
}

/** The spec a profile contributes before the user's settings are merged over it. */
export function profileSpec(name: SupportedProfile): PlainMap {
  return mergeFrom(structuredClone(DEFAULT), OVERLAYS[name]);
}
