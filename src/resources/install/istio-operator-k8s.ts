/**
 * IstioOperator `components.<c>.k8s`: Kubernetes settings for a component's Deployment, Service
 * and autoscaler (KubernetesResources in istio/istio operator/pkg/apis/types.go). The settings
 * Weft's local runtime applies (replicas, resources, env, strategy, service ports) are typed and
 * checked; deeply nested Kubernetes objects (affinity, probes, volumes, ...) are accepted as
 * mappings and passed through.
 */
import { z, int32, uint32, labels, stringMap } from '../schema.js';
import { mapping } from './mesh-config-providers.js';
import { quantity, parseQuantity, quantityProblem } from './quantity.js';

export const intOrString = z.union([z.number().int(), z.string()]);

const STANDARD_RESOURCES = /^(cpu|memory|ephemeral-storage|storage|hugepages-.+)$/;

/** corev1.ResourceList: standard names, or extended resources with a domain (`nvidia.com/gpu`). */
export const resourceList = z.record(z.string(), quantity).superRefine((list, ctx) => {
  for (const name of Object.keys(list)) {
    if (!STANDARD_RESOURCES.test(name) && !name.includes('/')) {
      ctx.addIssue({ code: 'custom', path: [name], message: `unknown resource "${name}": use cpu, memory, ephemeral-storage, hugepages-<size> or a domain-qualified extended resource` });
    }
  }
});

/** corev1.ResourceRequirements; quantities are validated (`100Mi`, `500m`, `2`). */
export const resourceRequirements = z.strictObject({
  limits: resourceList.optional(),
  requests: resourceList.optional(),
  claims: z.array(z.strictObject({ name: z.string(), request: z.string().optional() })).optional(),
}).superRefine((r, ctx) => {
  for (const [name, request] of Object.entries(r.requests ?? {})) {
    const limit = r.limits?.[name];
    // Refinements also run when a quantity itself was invalid; that is reported already.
    if (limit === undefined || quantityProblem(request) || quantityProblem(limit)) continue;
    if (parseQuantity(request) > parseQuantity(limit)) {
      ctx.addIssue({ code: 'custom', path: ['requests', name], message: `${name} request ${request} must be less than or equal to the ${name} limit ${limit}` });
    }
  }
});
export type ResourceRequirements = z.output<typeof resourceRequirements>;

export const envVar = z.strictObject({
  name: z.string().min(1, 'env name must not be empty'),
  value: z.string().optional(),
  valueFrom: mapping.optional(),
});
export type EnvVar = z.output<typeof envVar>;

export const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

export const servicePort = z.strictObject({
  name: z.string().optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: z.string().optional(),
  port: z.number().int().min(1, 'port number must be in 1..65535').max(65535, 'port number must be in 1..65535'),
  targetPort: intOrString.optional(),
  nodePort: int32.optional(),
});
export type ServicePort = z.output<typeof servicePort>;

/** corev1.ServiceSpec: every field, since Istio decodes it strictly. */
export const serviceSpec = z.strictObject({
  ports: z.array(servicePort).optional(),
  selector: stringMap.optional(),
  clusterIP: z.string().optional(),
  clusterIPs: z.array(z.string()).optional(),
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
  externalIPs: z.array(z.string()).optional(),
  sessionAffinity: z.enum(['None', 'ClientIP']).optional(),
  loadBalancerIP: z.string().optional(),
  loadBalancerSourceRanges: z.array(z.string()).optional(),
  externalName: z.string().optional(),
  externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
  healthCheckNodePort: int32.optional(),
  publishNotReadyAddresses: z.boolean().optional(),
  sessionAffinityConfig: mapping.optional(),
  ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional(),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  loadBalancerClass: z.string().optional(),
  internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
  trafficDistribution: z.string().optional(),
});

export const hpaSpec = z.strictObject({
  scaleTargetRef: mapping.optional(),
  minReplicas: z.number().int().min(1, 'minReplicas must be at least 1').optional(),
  maxReplicas: z.number().int().min(1, 'maxReplicas must be at least 1').optional(),
  metrics: z.array(mapping).optional(),
  behavior: mapping.optional(),
});

export const podDisruptionBudget = z.strictObject({
  minAvailable: intOrString.optional(),
  maxUnavailable: intOrString.optional(),
  selector: mapping.optional(),
  unhealthyPodEvictionPolicy: z.enum(['IfHealthyBudget', 'AlwaysAllow']).optional(),
});

export const deploymentStrategy = z.strictObject({
  type: z.enum(['RollingUpdate', 'Recreate']).optional(),
  rollingUpdate: z.strictObject({ maxSurge: intOrString.optional(), maxUnavailable: intOrString.optional() }).optional(),
});

export const k8sOverlay = z.strictObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  patches: z.array(z.strictObject({ path: z.string().optional(), value: z.unknown().optional() })).optional(),
});

export const kubernetesResources = z.strictObject({
  affinity: mapping.optional(),
  env: z.array(envVar).optional(),
  hpaSpec: hpaSpec.optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  nodeSelector: labels.optional(),
  podDisruptionBudget: podDisruptionBudget.optional(),
  podAnnotations: stringMap.optional(),
  priorityClassName: z.string().optional(),
  readinessProbe: mapping.optional(),
  replicaCount: uint32.optional(),
  resources: resourceRequirements.optional(),
  service: serviceSpec.optional(),
  strategy: deploymentStrategy.optional(),
  tolerations: z.array(toleration).optional(),
  serviceAnnotations: stringMap.optional(),
  securityContext: mapping.optional(),
  volumes: z.array(mapping).optional(),
  volumeMounts: z.array(mapping).optional(),
  overlays: z.array(k8sOverlay).optional(),
});
export type KubernetesResources = z.output<typeof kubernetesResources>;
