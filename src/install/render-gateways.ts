/**
 * Ingress and egress gateways, shaped like Istio's gateway charts: per enabled entry of
 * components.ingressGateways / egressGateways a Deployment and a Service named as the entry, and
 * a ServiceAccount `<name>-service-account` (the identity Istio's docs write in
 * AuthorizationPolicies). The pod's one container is `istio-proxy` with `image: auto`, Istio's
 * gateway injection convention: the runtime's injector makes it a gateway proxy.
 */
import type { GatewayComponent } from '../resources/install/istio-operator.js';
import type { ResolvedOperator } from './operator.js';
import { compact, isMap, type KubeObject, type PlainMap } from './objects.js';
import { installLabels } from './conventions.js';
import { gatewayValues } from './chart-defaults.js';
import { containerEnv, containerResources, deploymentStrategy, podAnnotations, replicaCount, type ChartValues } from './render-parts.js';

type Direction = 'ingress' | 'egress';

interface GatewayChartValues extends ChartValues {
  type?: string | null;
  ports?: PlainMap[] | null;
  labels?: Record<string, string> | null;
  serviceAnnotations?: PlainMap | null;
}

const SERVICE_PORT_FIELDS = ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'];
/** Kubernetes' IANA_SVC_NAME: a container port name is at most 15 characters. */
const PORT_NAME = /^(?=.{1,15}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function renderGateways(op: ResolvedOperator): KubeObject[] {
  const out: KubeObject[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    for (const gw of op.spec.components?.[`${direction}Gateways`] ?? []) {
      // As in istioctl, an entry is enabled unless it says otherwise.
      if (gw.enabled !== false && gw.name) out.push(...renderGateway(op, direction, gw, gw.name));
    }
  }
  return out;
}

function renderGateway(op: ResolvedOperator, direction: Direction, gw: GatewayComponent, name: string): KubeObject[] {
  const chart = gatewayValues(op, `istio-${direction}gateway`) as GatewayChartValues;
  const k8s = gw.k8s;
  const namespace = gw.namespace || op.namespace;
  const owned = installLabels(direction === 'ingress' ? 'IngressGateways' : 'EgressGateways', op.name, op.namespace, op.revision);
  // The chart's labels, then the entry's `label` merged over them (Helm merges the maps).
  const selector = { app: `istio-${direction}gateway`, istio: `${direction}gateway`, ...(chart.labels ?? {}), ...(gw.label ?? {}) };
  const labels = { ...selector, ...owned };
  const ports = servicePorts(k8s?.service?.ports as PlainMap[] | undefined ?? chart.ports ?? []);
  const serviceType = k8s?.service?.type ?? chart.type ?? (direction === 'ingress' ? 'LoadBalancer' : 'ClusterIP');
  const serviceAnnotations = { ...stringValues(chart.serviceAnnotations), ...(k8s?.serviceAnnotations ?? {}) };
  const { ports: _ports, type: _type, selector: _selector, ...otherServiceFields } = (k8s?.service ?? {}) as PlainMap;

  const container: PlainMap = {
    name: 'istio-proxy',
    image: 'auto',
    ports: containerPorts(ports),
  };
  const env = containerEnv([], k8s, chart);
  if (env) container.env = env;
  const resources = containerResources(k8s, chart);
  if (resources) container.resources = resources;
  const annotations = podAnnotations({ 'inject.istio.io/templates': 'gateway' }, k8s, chart);
  const serviceAccount = `${name}-service-account`;

  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace, labels } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: compact({ name, namespace, labels, annotations: Object.keys(serviceAnnotations).length > 0 ? serviceAnnotations : undefined }),
      spec: { ...otherServiceFields, type: serviceType, selector, ports },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: {
        replicas: replicaCount(k8s, chart),
        selector: { matchLabels: selector },
        strategy: deploymentStrategy(k8s, chart),
        template: {
          metadata: {
            labels: { ...labels, 'sidecar.istio.io/inject': 'true' },
            ...(annotations ? { annotations } : {}),
          },
          spec: { serviceAccountName: serviceAccount, containers: [container] },
        },
      },
    },
  ];
}

function servicePorts(list: readonly PlainMap[]): PlainMap[] {
  return list.map((p) => Object.fromEntries(SERVICE_PORT_FIELDS.filter((f) => p[f] !== undefined && p[f] !== null).map((f) => [f, p[f]])));
}

/** What the gateway pod listens on: each service port's target, plus Envoy's Prometheus port. */
function containerPorts(ports: readonly PlainMap[]): PlainMap[] {
  const out = new Map<number, PlainMap>();
  for (const p of ports) {
    const target = typeof p.targetPort === 'number' ? p.targetPort : typeof p.targetPort === 'string' ? undefined : p.port;
    if (typeof target !== 'number' || out.has(target)) continue;
    const portName = typeof p.name === 'string' && PORT_NAME.test(p.name) ? p.name : undefined;
    out.set(target, compact({ containerPort: target, name: portName, protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP' }));
  }
  if (!out.has(15090)) out.set(15090, { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' });
  return [...out.values()];
}

function stringValues(map: PlainMap | null | undefined): Record<string, string> {
  return isMap(map) ? Object.fromEntries(Object.entries(map).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)])) : {};
}
