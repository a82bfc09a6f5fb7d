/**
 * The control plane of one revision: Deployment, Service and ServiceAccount `istiod[-<rev>]`,
 * shaped like Istio's istio-discovery chart. Its one container runs `weft control-plane`; the
 * local runtime adds what only it knows (`--config`, `--state-dir`, `--bind`, `--replica-id`).
 */
import type { ResolvedOperator } from './operator.js';
import type { KubeObject, PlainMap } from './objects.js';
import { REVISION_LABEL, installLabels, istiodName, revisionLabel } from './conventions.js';
import { pilotValues } from './chart-defaults.js';
import { containerEnv, containerResources, deploymentStrategy, podAnnotations, replicaCount, type ChartValues } from './render-parts.js';

/** Istio's control plane ports: push (plaintext xDS), push over TLS, monitoring, webhooks. */
const ISTIOD_PORTS = [
  { name: 'grpc-xds', port: 15010 },
  { name: 'https-dns', port: 15012 },
  { name: 'http-monitoring', port: 15014 },
  { name: 'https-webhook', port: 15017 },
];

export function renderControlPlane(op: ResolvedOperator): KubeObject[] {
  const pilot = op.spec.components?.pilot ?? undefined;
  // Unset means enabled, as istioctl reads it; every profile says which it is anyway.
  if (!pilot || pilot.enabled === false) return [];
  const k8s = pilot.k8s;
  const chart = pilotValues(op) as ChartValues;
  const name = istiodName(op.revision);
  const namespace = pilot.namespace || op.namespace;
  const rev = revisionLabel(op.revision);
  const owned = installLabels('Pilot', op.name, op.namespace, op.revision);
  const selector = { app: 'istiod', [REVISION_LABEL]: rev };
  const labels = { app: 'istiod', istio: 'pilot', ...owned };
  const annotations = podAnnotations({}, k8s, chart);

  const container: PlainMap = {
    name: 'discovery',
    image: 'weft',
    command: ['weft', 'control-plane'],
    args: ['--port', '15010', '--monitoring-port', '15014', '--revision', rev],
    ports: ISTIOD_PORTS.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    readinessProbe: { httpGet: { path: '/ready', port: 15014 }, initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 5 },
  };
  const env = containerEnv([{ name: 'REVISION', value: rev }], k8s, chart);
  if (env) container.env = env;
  const resources = containerResources(k8s, chart);
  if (resources) container.resources = resources;

  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace, labels: { app: 'istiod', ...owned } },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector,
        ports: ISTIOD_PORTS.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
      },
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
            // Istio's own opt-out: the control plane never gets a sidecar.
            labels: { ...labels, 'sidecar.istio.io/inject': 'false' },
            ...(annotations ? { annotations } : {}),
          },
          spec: { serviceAccountName: name, containers: [container] },
        },
      },
    },
  ];
}
