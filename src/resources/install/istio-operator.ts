/**
 * IstioOperator (install.istio.io v1alpha1): what `weft install` reconciles, the control plane,
 * gateways and proxy defaults. Shape from istio/istio operator/pkg/apis/types.go (decoded
 * strictly, so unknown fields are errors); checks ported from
 * operator/pkg/apis/validation/validation.go. See ../shared/ISTIO-SEMANTICS.md §12.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z, labels, isDns1123Label } from '../schema.js';
import { meshConfig, validateMeshConfig } from './mesh-config.js';
import { kubernetesResources, type KubernetesResources } from './istio-operator-k8s.js';
import { helmValues, warnUnknownValues, type HelmValues } from './istio-operator-values.js';
import { ipSubnetProblem } from '../istio/networking-checks.js';

/** Profiles shipped in manifests/profiles. */
export const PROFILES = ['default', 'demo', 'minimal', 'remote', 'empty', 'preview', 'ambient', 'stable', 'openshift', 'openshift-ambient'] as const;
export type ProfileName = (typeof PROFILES)[number];

/** Image tags: YAML reads `tag: 1.20` as a number, which Istio accepts (`Tag any`). */
const tag = z.union([z.string(), z.number()]);

const componentFields = {
  /** Whether the component is installed; unset means the profile decides. */
  enabled: z.boolean().optional(),
  namespace: z.string().optional(),
  hub: z.string().optional(),
  tag: tag.optional(),
  k8s: kubernetesResources.optional(),
};

export const baseComponent = z.strictObject({ enabled: componentFields.enabled, k8s: componentFields.k8s });
export const componentSpec = z.strictObject(componentFields);
export type ComponentSpec = z.output<typeof componentSpec>;

export const gatewayComponent = z.strictObject({
  ...componentFields,
  name: z.string().optional(),
  /** Labels of the gateway's pods and Service selector (Gateway resources select on them). */
  label: labels.optional(),
});
export type GatewayComponent = z.output<typeof gatewayComponent>;

export const components = z.strictObject({
  base: baseComponent.nullish(),
  pilot: componentSpec.nullish(),
  cni: componentSpec.nullish(),
  ztunnel: componentSpec.nullish(),
  istiodRemote: componentSpec.nullish(),
  ingressGateways: z.array(gatewayComponent).nullish(),
  egressGateways: z.array(gatewayComponent).nullish(),
});
export type Components = z.output<typeof components>;

// Object-valued fields are nullish: a bare `values:` or `pilot:` is null in YAML, and istioctl
// reads null as unset.
export const istioOperatorSpec = z.strictObject({
  /** A profile name or a path to a profile file; `default` when unset. */
  profile: z.string().optional(),
  installPackagePath: z.string().optional(),
  hub: z.string().optional(),
  tag: tag.optional(),
  /** Control plane namespace; the IstioOperator's own namespace when unset. */
  namespace: z.string().optional(),
  /** Installs a separate control plane `istiod-<revision>` beside others. */
  revision: z.string().optional(),
  /** `major.minor`: behave like that older Istio release. */
  compatibilityVersion: z.string().optional(),
  meshConfig: meshConfig.nullish(),
  components: components.nullish(),
  values: helmValues.nullish(),
  /** Passed to the charts with no checks at all. */
  unvalidatedValues: z.record(z.string(), z.unknown()).nullish(),
});
export type IstioOperatorSpec = z.output<typeof istioOperatorSpec>;

type Path = (string | number)[];

export function validateIstioOperator(spec: IstioOperatorSpec, ctx: ValidationContext): void {
  if (spec.profile !== undefined && !(PROFILES as readonly string[]).includes(spec.profile) && !/[/\\]|\.ya?ml$/.test(spec.profile)) {
    ctx.error(['profile'], `unknown profile "${spec.profile}"; use one of ${PROFILES.join(', ')}, or a path to a profile file`);
  }
  checkImage(spec.hub, spec.tag, [], ctx);
  if (spec.revision !== undefined && spec.revision !== '' && !isDns1123Label(spec.revision)) {
    ctx.error(['revision'], `invalid revision specified: ${spec.revision} (must be a lowercase RFC 1123 label, e.g. 1-20-1 or canary)`);
  }
  if (spec.namespace !== undefined && spec.namespace !== '' && !isDns1123Label(spec.namespace)) {
    ctx.error(['namespace'], `invalid namespace "${spec.namespace}": must be a lowercase RFC 1123 label`);
  }
  if (spec.compatibilityVersion !== undefined && !/^\d+\.\d+$/.test(spec.compatibilityVersion)) {
    ctx.error(['compatibilityVersion'], `compatibilityVersion must be in major.minor format, such as 1.23; got "${spec.compatibilityVersion}"`);
  }
  if (spec.meshConfig) validateMeshConfig(spec.meshConfig, ['meshConfig'], ctx);
  if (spec.values?.meshConfig) validateMeshConfig(spec.values.meshConfig, ['values', 'meshConfig'], ctx);
  if (spec.components) checkComponents(spec.components, spec.values, ctx);
  if (spec.values) {
    checkValues(spec.values, ctx);
    warnUnknownValues(helmValues, spec.values, ['values'], ctx);
  }
}

const REPO_PART = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY = /^(?:[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** Istio's validateHub and validateTag: `<hub>/pilot:<tag>` must be a valid image reference. */
function checkImage(hub: string | undefined, tagValue: string | number | undefined, at: Path, ctx: ValidationContext): void {
  if (hub !== undefined && hub !== '') {
    const parts = hub.split('/');
    const first = parts[0] ?? '';
    const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
    const repo = hasRegistry ? parts.slice(1) : parts;
    if ((hasRegistry && !REGISTRY.test(first)) || repo.some((p) => !REPO_PART.test(p))) {
      ctx.error([...at, 'hub'], `bad hub: "${hub}" is not a valid image repository (lowercase path components separated by "/", optionally after a registry host)`);
    }
  }
  if (tagValue !== undefined && !TAG.test(String(tagValue))) {
    ctx.error([...at, 'tag'], `bad tag: "${String(tagValue)}" is not a valid image tag (letters, digits, "_", "." and "-", at most 128)`);
  } else if (typeof tagValue === 'number' && !Number.isInteger(tagValue)) {
    ctx.warning([...at, 'tag'], `tag was read as the number ${tagValue}; quote it (tag: "…") so YAML keeps it exactly as written, e.g. "1.20" rather than 1.2`);
  }
}

/** Istio's objectNameRegexp for gateway names. */
const GATEWAY_NAME = /^[a-z0-9.-]{1,254}$/;

function checkComponents(c: Components, values: HelmValues | null | undefined, ctx: ValidationContext): void {
  for (const name of ['pilot', 'cni', 'ztunnel', 'istiodRemote'] as const) {
    const comp = c[name];
    if (!comp) continue;
    checkImage(comp.hub, comp.tag, ['components', name], ctx);
    checkNamespace(comp.namespace, ['components', name, 'namespace'], ctx);
    if (comp.k8s) checkK8s(comp.k8s, ['components', name, 'k8s'], ctx);
  }
  if (c.base?.k8s) checkK8s(c.base.k8s, ['components', 'base', 'k8s'], ctx);
  if (values?.pilot?.autoscaleEnabled && (c.pilot?.k8s?.replicaCount ?? 0) > 1) {
    ctx.warning(['components', 'pilot', 'k8s', 'replicaCount'], 'components.pilot.k8s.replicaCount should not be set when values.pilot.autoscaleEnabled is true');
  }
  for (const kind of ['ingress', 'egress'] as const) {
    const list = c[`${kind}Gateways`];
    const gwValues = values?.gateways?.[`istio-${kind}gateway`];
    const seen = new Map<string, number>();
    list?.forEach((gw, i) => {
      const at: Path = ['components', `${kind}Gateways`, i];
      if (gw.name === undefined || gw.name === '') ctx.error([...at, 'name'], 'a gateway needs a name: it names its Deployment and Service');
      else if (!GATEWAY_NAME.test(gw.name)) ctx.error([...at, 'name'], `invalid value ${kind}Gateways.name: ${gw.name}`);
      else if (seen.has(gw.name)) ctx.error([...at, 'name'], `gateway name "${gw.name}" is also used by ${kind}Gateways[${seen.get(gw.name)}]`);
      else seen.set(gw.name, i);
      checkImage(gw.hub, gw.tag, at, ctx);
      checkNamespace(gw.namespace, [...at, 'namespace'], ctx);
      if (gw.k8s) checkK8s(gw.k8s, [...at, 'k8s'], ctx);
      if (gwValues?.autoscaleEnabled && gw.k8s?.replicaCount) {
        ctx.warning([...at, 'k8s', 'replicaCount'],
          `components.${kind}Gateways[name=${gw.name ?? ''}].k8s.replicaCount should not be set when values.gateways.istio-${kind}gateway.autoscaleEnabled is true`);
      }
      // checkServicePorts: a non-root gateway cannot bind a port below 1024.
      if (!gwValues?.runAsRoot) {
        gw.k8s?.service?.ports?.forEach((p, j) => {
          if (typeof p.targetPort === 'string') return;
          const target = p.targetPort ?? 0;
          if ((target === 0 && p.port > 1024) || target >= 1024) return;
          ctx.error([...at, 'k8s', 'service', 'ports', j, p.targetPort === undefined ? 'port' : 'targetPort'],
            `port ${p.name ?? ''}/${p.port} in gateway ${gw.name ?? ''} invalid: targetPort is set to ${target}, which requires root. Set targetPort to be greater than 1024 or configure values.gateways.istio-${kind}gateway.runAsRoot=true`);
        });
      }
    });
  }
}

function checkNamespace(ns: string | undefined, at: Path, ctx: ValidationContext): void {
  if (ns !== undefined && ns !== '' && !isDns1123Label(ns)) ctx.error(at, `invalid namespace "${ns}": must be a lowercase RFC 1123 label`);
}

function checkK8s(k8s: KubernetesResources, at: Path, ctx: ValidationContext): void {
  const hpa = k8s.hpaSpec;
  if (hpa?.minReplicas !== undefined && hpa.maxReplicas !== undefined && hpa.minReplicas > hpa.maxReplicas) {
    ctx.error([...at, 'hpaSpec', 'minReplicas'], `minReplicas (${hpa.minReplicas}) must be less than or equal to maxReplicas (${hpa.maxReplicas})`);
  }
  const names = new Set<string>();
  k8s.env?.forEach((e, i) => {
    if (names.has(e.name)) ctx.warning([...at, 'env', i, 'name'], `environment variable ${e.name} is set more than once; the last one wins`);
    names.add(e.name);
    if (e.value !== undefined && e.valueFrom !== undefined) ctx.error([...at, 'env', i], 'may not have both value and valueFrom');
  });
}

/** The values Istio's validateValues checks itself. */
function checkValues(values: HelmValues, ctx: ValidationContext): void {
  const proxy = values.global?.proxy;
  const at: Path = ['values', 'global', 'proxy'];
  for (const field of ['includeIPRanges', 'excludeIPRanges'] as const) {
    const text = proxy?.[field];
    if (text == null || text === '' || text === '*') continue;
    for (const cidr of text.split(',')) {
      const problem = cidr.includes('/') ? ipSubnetProblem(cidr.trim()) : `"${cidr}" is not a CIDR range (address/bits)`;
      if (problem) ctx.error([...at, field], `${field}: ${problem}`);
    }
  }
  for (const field of ['includeInboundPorts', 'excludeInboundPorts', 'includeOutboundPorts', 'excludeOutboundPorts'] as const) {
    const text = proxy?.[field];
    if (text == null) continue;
    for (const port of text.split(',')) {
      if (port === '*' || port === '') continue;
      if (!/^\d+$/.test(port.trim()) || Number(port) > 65535) ctx.error([...at, field], `${field}: "${port}" is not a port number in 0..65535`);
    }
  }
}

export const istioOperatorKind = defineKind({
  kind: 'IstioOperator',
  group: 'install.istio.io',
  versions: ['v1alpha1'],
  namespaced: true,
  spec: istioOperatorSpec,
  emptySpec: {},
  validate: validateIstioOperator,
});
