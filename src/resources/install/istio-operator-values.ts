/**
 * IstioOperator `spec.values`: the pass-through to Istio's Helm charts (Values in istio/istio
 * operator/pkg/apis/values_types.proto, plus chart keys from manifests/charts values.yaml).
 *
 * Known keys are typed, and a wrong type is an error, as when istioctl decodes them. Unknown keys
 * are only WARNINGS: Helm values are open-ended (charts and custom templates read keys the proto
 * does not list, and istioctl passes them on without complaint), so rejecting them would refuse
 * installs Istio accepts, while staying silent would hide typos such as `replicaCont`.
 * The blocks Weft does not act on (cni, ztunnel, waypoint, ...) are accepted as any mapping.
 */
import type { ValidationContext } from '../resource.js';
import { z, duration, uint32 } from '../schema.js';
import { mapping } from './mesh-config-providers.js';
import { quantity } from './quantity.js';
import { intOrString, toleration } from './istio-operator-k8s.js';
import { meshConfig } from './mesh-config.js';

const bool = z.boolean().nullish();
const str = z.string().nullish();
const strings = z.array(z.string()).nullish();
const count = uint32.nullish();
const maps = z.array(mapping).nullish();
/** Decoded strictly as Kubernetes Tolerations by istioctl. */
const tolerations = z.array(toleration).nullish();

// Every field is nullish because in Helm values `key: null` deletes the chart's default (e.g.
// `resources.limits.cpu: null` for no CPU limit). Note: the loader drops nulls before parsing
// (lib/object.ts), so today such a key reads as absent and the chart default stays.

/** Helm's resources block: Kubernetes quantities by resource name (null removes a default). */
export const valuesResources = z.looseObject({
  limits: z.record(z.string(), quantity.nullable()).nullish(),
  requests: z.record(z.string(), quantity.nullable()).nullish(),
});
export type ValuesResources = z.output<typeof valuesResources>;

const targetUtilization = z.looseObject({ targetAverageUtilization: z.number().int().nullish() });

/** values.global.proxy: the injected istio-proxy container. */
export const proxyValues = z.looseObject({
  autoInject: z.enum(['enabled', 'disabled']).nullish(),
  clusterDomain: str,
  componentLogLevel: str,
  /** @deprecated */
  enableCoreDump: bool,
  excludeInboundPorts: str,
  excludeIPRanges: str,
  image: str,
  includeIPRanges: str,
  logLevel: str,
  outlierLogPath: str,
  privileged: bool,
  readinessInitialDelaySeconds: count,
  readinessPeriodSeconds: count,
  readinessFailureThreshold: count,
  seccompProfile: mapping.nullish(),
  startupProbe: z.looseObject({ enabled: bool, failureThreshold: count }).nullish(),
  statusPort: count,
  /** Requests and limits of the istio-proxy container (chart default 100m/128Mi, 2000m/1024Mi). */
  resources: valuesResources.nullish(),
  tracer: z.enum(['zipkin', 'lightstep', 'datadog', 'stackdriver', 'openCensusAgent', 'none']).nullish(),
  excludeOutboundPorts: str,
  lifecycle: mapping.nullish(),
  /** @deprecated use meshConfig.defaultConfig.holdApplicationUntilProxyStarts. */
  holdApplicationUntilProxyStarts: bool,
  includeInboundPorts: str,
  includeOutboundPorts: str,
});
export type ProxyValues = z.output<typeof proxyValues>;

export const globalValues = z.looseObject({
  /** @deprecated */
  arch: mapping.nullish(),
  certSigners: strings,
  configValidation: bool,
  /** @deprecated */
  defaultNodeSelector: mapping.nullish(),
  defaultPodDisruptionBudget: z.looseObject({ enabled: bool }).nullish(),
  /** @deprecated */
  defaultResources: valuesResources.nullish(),
  /** @deprecated */
  defaultTolerations: tolerations,
  hub: str,
  imagePullPolicy: z.enum(['', 'Always', 'IfNotPresent', 'Never']).nullish(),
  imagePullSecrets: strings,
  istioNamespace: str,
  logAsJson: bool,
  logging: z.looseObject({ level: str }).nullish(),
  meshID: str,
  meshNetworks: mapping.nullish(),
  multiCluster: z.looseObject({ enabled: bool, clusterName: str, globalDomainSuffix: str, includeEnvoyFilter: bool }).nullish(),
  network: str,
  podDNSSearchNamespaces: strings,
  omitSidecarInjectorConfigMap: bool,
  operatorManageWebhooks: bool,
  /** @deprecated */
  priorityClassName: str,
  proxy: proxyValues.nullish(),
  proxy_init: z.looseObject({ image: str, resources: valuesResources.nullish(), forceApplyIptables: bool }).nullish(),
  sds: z.looseObject({ token: mapping.nullish() }).nullish(),
  tag: z.union([z.string(), z.number()]).nullish(),
  variant: str,
  tracer: mapping.nullish(),
  remotePilotAddress: str,
  istiod: z.looseObject({ enableAnalysis: bool }).nullish(),
  pilotCertProvider: str,
  /** @deprecated */
  jwtPolicy: str,
  sts: z.looseObject({ servicePort: count }).nullish(),
  revision: str,
  mountMtlsCerts: bool,
  caAddress: str,
  externalIstiod: bool,
  configCluster: bool,
  caName: str,
  platform: str,
  ipFamilies: strings,
  ipFamilyPolicy: str,
  waypoint: mapping.nullish(),
  trustBundleName: str,
  nativeNftables: bool,
  networkPolicy: mapping.nullish(),
  resourceScope: str,
  agentgateway: mapping.nullish(),
  enableReaderRBAC: bool,
  readerServiceAccount: mapping.nullish(),
});
export type GlobalValues = z.output<typeof globalValues>;

/** values.pilot: istiod. */
export const pilotValues = z.looseObject({
  enabled: bool,
  autoscaleEnabled: bool,
  autoscaleMin: count,
  autoscaleMax: count,
  autoscaleBehavior: mapping.nullish(),
  /** @deprecated use components.pilot.k8s.replicaCount. Ignored by the chart while autoscaleEnabled. */
  replicaCount: count,
  image: str,
  /** Percentage of requests traced, 0.0 to 100.0 (chart default 1.0). */
  traceSampling: z.number().min(0, 'traceSampling must be in range 0..100').max(100, 'traceSampling must be in range 0..100').nullish(),
  /** @deprecated use components.pilot.k8s.resources. */
  resources: valuesResources.nullish(),
  /** @deprecated */
  cpu: targetUtilization.nullish(),
  /** @deprecated */
  memory: targetUtilization.nullish(),
  /** @deprecated */
  nodeSelector: mapping.nullish(),
  /** ms. */
  keepaliveMaxServerConnectionAge: duration().nullish(),
  deploymentLabels: mapping.nullish(),
  deploymentAnnotations: mapping.nullish(),
  podLabels: mapping.nullish(),
  configMap: bool,
  /** Environment variables of istiod (feature flags such as PILOT_JWT_ENABLE_REMOTE_JWKS). */
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullish(),
  affinity: mapping.nullish(),
  /** @deprecated */
  rollingMaxSurge: intOrString.nullish(),
  /** @deprecated */
  rollingMaxUnavailable: intOrString.nullish(),
  /** @deprecated */
  tolerations: tolerations,
  /** @deprecated */
  podAnnotations: mapping.nullish(),
  serviceAnnotations: mapping.nullish(),
  serviceAccountAnnotations: mapping.nullish(),
  sidecarInjectorWebhookAnnotations: mapping.nullish(),
  jwksResolverExtraRootCA: str,
  hub: str,
  tag: z.union([z.string(), z.number()]).nullish(),
  variant: str,
  seccompProfile: mapping.nullish(),
  topologySpreadConstraints: maps,
  extraContainerArgs: z.array(z.unknown()).nullish(),
  initContainers: maps,
  volumeMounts: maps,
  volumes: maps,
  ipFamilies: strings,
  ipFamilyPolicy: str,
  cni: z.looseObject({ enabled: bool, chained: bool, provider: str }).nullish(),
  taint: mapping.nullish(),
  trustedZtunnelNamespace: str,
  trustedZtunnelName: str,
  istiodRemote: mapping.nullish(),
  envVarFrom: maps,
  crlConfigMapName: str,
});
export type PilotValues = z.output<typeof pilotValues>;

/** values.gateways.istio-ingressgateway / istio-egressgateway. */
export const gatewayValues = z.looseObject({
  autoscaleEnabled: bool,
  autoscaleMax: count,
  autoscaleMin: count,
  /** @deprecated */
  memory: targetUtilization.nullish(),
  /** @deprecated */
  cpu: targetUtilization.nullish(),
  customService: bool,
  enabled: bool,
  env: mapping.nullish(),
  labels: z.record(z.string(), z.string()).nullish(),
  loadBalancerIP: str,
  loadBalancerSourceRanges: strings,
  name: str,
  nodeSelector: mapping.nullish(),
  podAnnotations: mapping.nullish(),
  podAntiAffinityLabelSelector: maps,
  podAntiAffinityTermLabelSelector: maps,
  ports: z.array(z.looseObject({ name: str, port: z.number().int().nullish(), nodePort: z.number().int().nullish(), targetPort: z.number().int().nullish(), protocol: str })).nullish(),
  /** @deprecated use components.<x>Gateways[].k8s.replicaCount. */
  replicaCount: count,
  /** @deprecated */
  resources: valuesResources.nullish(),
  secretVolumes: maps,
  serviceAnnotations: mapping.nullish(),
  type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).nullish(),
  rollingMaxSurge: intOrString.nullish(),
  rollingMaxUnavailable: intOrString.nullish(),
  externalTrafficPolicy: str,
  tolerations: tolerations,
  ingressPorts: maps,
  additionalContainers: maps,
  configVolumes: maps,
  /** Without it, gateway ports below 1024 cannot bind. */
  runAsRoot: bool,
  injectionTemplate: str,
  serviceAccount: mapping.nullish(),
  ipFamilies: strings,
  ipFamilyPolicy: str,
});
export type GatewayValues = z.output<typeof gatewayValues>;

export const helmValues = z.looseObject({
  cni: mapping.nullish(),
  gateways: z.looseObject({
    'istio-egressgateway': gatewayValues.nullish(),
    'istio-ingressgateway': gatewayValues.nullish(),
    enabled: bool,
    securityContext: z.unknown().nullish(),
    seccompProfile: z.unknown().nullish(),
  }).nullish(),
  global: globalValues.nullish(),
  pilot: pilotValues.nullish(),
  ztunnel: z.unknown().nullish(),
  telemetry: z.looseObject({
    enabled: bool,
    v2: z.looseObject({
      enabled: bool,
      prometheus: z.looseObject({ enabled: bool }).nullish(),
      stackdriver: z.looseObject({ enabled: bool }).nullish(),
    }).nullish(),
  }).nullish(),
  sidecarInjectorWebhook: z.looseObject({
    enableNamespacesByDefault: bool,
    reinvocationPolicy: z.enum(['Never', 'IfNeeded']).nullish(),
    neverInjectSelector: maps,
    alwaysInjectSelector: maps,
    rewriteAppHTTPProbe: bool,
    injectedAnnotations: mapping.nullish(),
    injectionURL: str,
    templates: mapping.nullish(),
    defaultTemplates: strings,
  }).nullish(),
  /** @deprecated use values.pilot.cni. */
  istio_cni: mapping.nullish(),
  revision: str,
  ownerName: str,
  /** The same MeshConfig as spec.meshConfig (spec.meshConfig wins where both set a field). */
  meshConfig: meshConfig.nullish(),
  base: mapping.nullish(),
  /** @deprecated */
  istiodRemote: mapping.nullish(),
  revisionTags: strings,
  defaultRevision: str,
  profile: str,
  compatibilityVersion: str,
  experimental: mapping.nullish(),
  gatewayClasses: z.unknown().nullish(),
  pdb: mapping.nullish(),
});
export type HelmValues = z.output<typeof helmValues>;

/**
 * Warns about keys that no known part of `schema` declares, walking loose objects (the only
 * ones that let unknown keys through) alongside the data.
 */
export function warnUnknownValues(schema: z.ZodType, value: unknown, at: (string | number)[], ctx: ValidationContext): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    const shape = inner.shape as Record<string, z.ZodType>;
    const loose = inner.def.catchall instanceof z.ZodUnknown;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const field = shape[key];
      if (field) warnUnknownValues(field, child, [...at, key], ctx);
      else if (loose) ctx.warning([...at, key], `unknown Helm value "${[...at.slice(1), key].join('.')}": Istio passes it to the charts unchecked; check the spelling`);
    }
  } else if (inner instanceof z.ZodArray && Array.isArray(value)) {
    value.forEach((item, i) => warnUnknownValues(inner.element as z.ZodType, item, [...at, i], ctx));
  }
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else return s;
  }
}
