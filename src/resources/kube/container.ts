/**
 * Kubernetes' Container (core/v1) as a pod template carries it. The fields the local runtime acts
 * on (command, env with the downward API, ports, probes, resources) are typed and checked as the
 * API server checks them; the rest (volumeMounts, securityContext, lifecycle, ...) are accepted as
 * written, because real manifests carry them, but a misspelt field name is still an error.
 */
import { z, isDns1123Label, isDns1123Subdomain, labelKeyProblem } from '../schema.js';
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { quantity, describeValue } from './quantity.js';

/** An object whose content Weft does not interpret; only its place in the tree is checked. */
export const looseObject = z.record(z.string(), z.unknown());

export const protocol = z.enum(['TCP', 'UDP', 'SCTP']);
export type Protocol = z.output<typeof protocol>;

/** Kubernetes' IntOrString: a port number, or the name of a container port. */
export const intOrString = z.unknown().transform((value, ctx): number | string => {
  if ((typeof value === 'number' && Number.isInteger(value)) || typeof value === 'string') return value;
  ctx.addIssue(value === undefined
    ? { code: 'invalid_type', expected: 'string', input: value }
    : { code: 'custom', message: `expected an integer or a string, got ${describeValue(value)}` });
  return z.NEVER;
});

const nonNegative = z.number().int().min(0, 'must be greater than or equal to 0');

// ---- names, with the API server's wording -------------------------------------------------

export function portNumberProblem(port: number): string | undefined {
  return port >= 1 && port <= 65535 ? undefined : `invalid value ${port}: must be between 1 and 65535, inclusive`;
}

/** IANA_SVC_NAME, the rule for named ports (validation.IsValidPortName). */
export function portNameProblem(name: string): string | undefined {
  const problems: string[] = [];
  if (name.length > 15) problems.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) problems.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  else if (!/[a-z]/.test(name)) problems.push('must contain at least one letter (a-z)');
  if (name.includes('--')) problems.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) problems.push('must not begin or end with a hyphen');
  return problems.length === 0 ? undefined : `invalid port name ${JSON.stringify(name)}: ${problems.join(', ')}`;
}

export function portNumOrNameProblem(port: number | string): string | undefined {
  return typeof port === 'number' ? portNumberProblem(port) : portNameProblem(port);
}

export function dns1123LabelProblem(name: string, what: string): string | undefined {
  return isDns1123Label(name) ? undefined
    : `invalid ${what} ${JSON.stringify(name)}: must be a lowercase RFC 1123 label (at most 63 characters: a-z, 0-9 and '-', starting and ending with a letter or digit)`;
}

export function dns1123SubdomainProblem(name: string, what: string): string | undefined {
  return isDns1123Subdomain(name) ? undefined
    : `invalid ${what} ${JSON.stringify(name)}: must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', starting and ending with a letter or digit)`;
}

/** A qualified name (`name` or `prefix/name`), as label keys and appProtocol are checked. */
export function qualifiedNameProblem(name: string, what: string): string | undefined {
  const problem = labelKeyProblem(name);
  return problem === undefined ? undefined : `invalid ${what} ${JSON.stringify(name)}: must be a qualified name (an optional DNS subdomain prefix and '/', then at most 63 characters: alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric)`;
}

/** Since RelaxedEnvironmentVariableValidation (on by default), any printable ASCII but '='. */
function envNameProblem(name: string): string | undefined {
  if (name !== '' && /^[\x20-\x3c\x3e-\x7e]+$/.test(name)) return undefined;
  return `invalid environment variable name ${JSON.stringify(name)}: must consist only of printable ASCII characters other than '='`;
}

// ---- schema -----------------------------------------------------------------------------------

export const containerPort = z.strictObject({
  name: z.string().optional(),
  containerPort: z.number().int(),
  protocol: protocol.default('TCP'),
  hostPort: z.number().int().optional(),
  hostIP: z.string().optional(),
});
export type ContainerPort = z.output<typeof containerPort>;

const keySelector = z.strictObject({ name: z.string(), key: z.string(), optional: z.boolean().optional() });

export const envVarSource = z.strictObject({
  /** The downward API: a field of the pod itself. */
  fieldRef: z.strictObject({ apiVersion: z.string().default('v1'), fieldPath: z.string() }).optional(),
  resourceFieldRef: z.strictObject({ containerName: z.string().optional(), resource: z.string(), divisor: quantity.optional() }).optional(),
  configMapKeyRef: keySelector.optional(),
  secretKeyRef: keySelector.optional(),
  /** Alpha (EnvFiles): a key of an env file in an emptyDir volume. */
  fileKeyRef: z.strictObject({ volumeName: z.string(), path: z.string(), key: z.string(), optional: z.boolean().optional() }).optional(),
});
export type EnvVarSource = z.output<typeof envVarSource>;

export const envVar = z.strictObject({ name: z.string(), value: z.string().optional(), valueFrom: envVarSource.optional() });
export type EnvVar = z.output<typeof envVar>;

const nameRef = z.strictObject({ name: z.string(), optional: z.boolean().optional() });
export const envFromSource = z.strictObject({ prefix: z.string().optional(), configMapRef: nameRef.optional(), secretRef: nameRef.optional() });
export type EnvFromSource = z.output<typeof envFromSource>;

export const httpGetAction = z.strictObject({
  path: z.string().default('/'),
  port: intOrString,
  host: z.string().optional(),
  scheme: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
  httpHeaders: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
});

/** A probe with Kubernetes' defaults applied (SetDefaults_Probe treats 0 as unset too). */
export const probe = z.strictObject({
  exec: z.strictObject({ command: z.array(z.string()).optional() }).optional(),
  httpGet: httpGetAction.optional(),
  tcpSocket: z.strictObject({ port: intOrString, host: z.string().optional() }).optional(),
  grpc: z.strictObject({ port: z.number().int(), service: z.string().optional() }).optional(),
  initialDelaySeconds: nonNegative.default(0),
  timeoutSeconds: nonNegative.optional(),
  periodSeconds: nonNegative.optional(),
  successThreshold: nonNegative.optional(),
  failureThreshold: nonNegative.optional(),
  terminationGracePeriodSeconds: z.number().int().optional(),
}).transform((p) => ({
  ...p,
  timeoutSeconds: p.timeoutSeconds || 1,
  periodSeconds: p.periodSeconds || 10,
  successThreshold: p.successThreshold || 1,
  failureThreshold: p.failureThreshold || 3,
}));
export type Probe = z.output<typeof probe>;

export const resourceRequirements = z.strictObject({
  limits: z.record(z.string(), quantity).optional(),
  requests: z.record(z.string(), quantity).optional(),
  claims: z.array(z.strictObject({ name: z.string(), request: z.string().optional() })).optional(),
});
export type ResourceRequirements = z.output<typeof resourceRequirements>;

export const container = z.strictObject({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  ports: z.array(containerPort).optional(),
  envFrom: z.array(envFromSource).optional(),
  env: z.array(envVar).optional(),
  resources: resourceRequirements.optional(),
  readinessProbe: probe.optional(),
  livenessProbe: probe.optional(),
  startupProbe: probe.optional(),
  /** Only `Always`, and only on init containers: it makes them sidecars. */
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
  stdin: z.boolean().optional(),
  stdinOnce: z.boolean().optional(),
  tty: z.boolean().optional(),
  // Accepted as written: the local runtime does not act on them.
  restartPolicyRules: z.array(looseObject).optional(),
  resizePolicy: z.array(looseObject).optional(),
  volumeMounts: z.array(looseObject).optional(),
  volumeDevices: z.array(looseObject).optional(),
  lifecycle: looseObject.optional(),
  securityContext: looseObject.optional(),
});
export type Container = z.output<typeof container>;

// ---- semantic checks (k8s.io/kubernetes pkg/apis/core/validation) ------------------------------

/** Fields of the pod the downward API gives to environment variables. */
const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];
const RESOURCE_FIELDS = ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'];

export interface ContainerContext {
  init: boolean;
  hostNetwork: boolean;
  /** Volume names of the pod, for volumeMounts. */
  volumes: ReadonlySet<string>;
}

export function validateContainer(c: Container, path: FieldPath, ctx: ValidationContext, pod: ContainerContext): void {
  const problem = dns1123LabelProblem(c.name, 'container name');
  if (problem) ctx.error([...path, 'name'], problem);
  if (c.image.trim() === '') ctx.error([...path, 'image'], 'a container needs an image');

  const portNames = new Set<string>();
  c.ports?.forEach((p, i) => {
    const at = [...path, 'ports', i];
    const bad = portNumberProblem(p.containerPort);
    if (bad) ctx.error([...at, 'containerPort'], bad);
    if (p.hostPort !== undefined && p.hostPort !== 0) {
      const badHost = portNumberProblem(p.hostPort);
      if (badHost) ctx.error([...at, 'hostPort'], badHost);
      else if (pod.hostNetwork && p.hostPort !== p.containerPort) ctx.error([...at, 'hostPort'], 'must match `containerPort` when `hostNetwork` is true');
    }
    if (p.name !== undefined) {
      const badName = portNameProblem(p.name);
      if (badName) ctx.error([...at, 'name'], badName);
      else if (portNames.has(p.name)) ctx.error([...at, 'name'], `duplicate port name ${JSON.stringify(p.name)}`);
      portNames.add(p.name);
    }
  });

  validateEnv(c, path, ctx);
  validateResources(c.resources, [...path, 'resources'], ctx);

  const probes = [['readinessProbe', c.readinessProbe], ['livenessProbe', c.livenessProbe], ['startupProbe', c.startupProbe]] as const;
  for (const [field, p] of probes) {
    if (!p) continue;
    if (pod.init && c.restartPolicy !== 'Always') {
      ctx.error([...path, field], 'may not be set for init containers without restartPolicy=Always');
      continue;
    }
    validateProbe(p, [...path, field], field, portNames, ctx);
  }

  if (c.restartPolicy !== undefined) {
    if (!pod.init) ctx.error([...path, 'restartPolicy'], 'may not be set for non-init containers');
    else if (c.restartPolicy !== 'Always') ctx.error([...path, 'restartPolicy'], `unsupported value ${JSON.stringify(c.restartPolicy)}; expected Always (a sidecar container)`);
  }

  c.volumeMounts?.forEach((m, i) => {
    const name = m.name;
    if (typeof name !== 'string' || name === '') ctx.error([...path, 'volumeMounts', i, 'name'], 'missing required field "name"');
    else if (!pod.volumes.has(name)) ctx.error([...path, 'volumeMounts', i, 'name'], `volume ${JSON.stringify(name)} not found in the pod's volumes`);
    if (typeof m.mountPath !== 'string' || m.mountPath === '') ctx.error([...path, 'volumeMounts', i, 'mountPath'], 'missing required field "mountPath"');
  });
}

function validateEnv(c: Container, path: FieldPath, ctx: ValidationContext): void {
  const seen = new Set<string>();
  c.env?.forEach((e, i) => {
    const at = [...path, 'env', i];
    const bad = envNameProblem(e.name);
    if (bad) ctx.error([...at, 'name'], bad);
    if (seen.has(e.name)) ctx.warning(at, `hides previous definition of ${JSON.stringify(e.name)}, which may be dropped when using apply`);
    seen.add(e.name);
    if (!e.valueFrom) return;
    if (e.value) ctx.error([...at, 'valueFrom'], 'may not be specified when `value` is not empty');
    const from = e.valueFrom;
    const set = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'] as const).filter((k) => from[k] !== undefined);
    if (set.length === 0) ctx.error([...at, 'valueFrom'], 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
    if (set.length > 1) ctx.error([...at, 'valueFrom', set[1] as string], `may not have more than one field specified at a time (found ${set.join(' and ')})`);
    if (from.fieldRef) validateFieldRef(from.fieldRef, [...at, 'valueFrom', 'fieldRef'], ctx);
    if (from.resourceFieldRef) {
      const r = from.resourceFieldRef;
      if (!RESOURCE_FIELDS.includes(r.resource) && !/^(limits|requests)\.hugepages-/.test(r.resource)) {
        ctx.error([...at, 'valueFrom', 'resourceFieldRef', 'resource'], `unsupported value ${JSON.stringify(r.resource)}; expected one of ${RESOURCE_FIELDS.join(', ')}`);
      }
    }
    for (const k of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = from[k];
      if (!ref) continue;
      if (ref.name === '') ctx.error([...at, 'valueFrom', k, 'name'], 'missing required field "name"');
      if (!/^[-._a-zA-Z0-9]+$/.test(ref.key) || ref.key.length > 253 || ref.key === '.' || ref.key.startsWith('..')) {
        ctx.error([...at, 'valueFrom', k, 'key'], `invalid key ${JSON.stringify(ref.key)}: must consist of alphanumeric characters, '-', '_' or '.'`);
      }
    }
  });
  c.envFrom?.forEach((e, i) => {
    const at = [...path, 'envFrom', i];
    if (e.configMapRef && e.secretRef) ctx.error([...at, 'secretRef'], 'may not have more than one field specified at a time (found configMapRef and secretRef)');
    else if (!e.configMapRef && !e.secretRef) ctx.error(at, 'must specify one of: `configMapRef` or `secretRef`');
    if (e.prefix) {
      const bad = envNameProblem(e.prefix);
      if (bad) ctx.error([...at, 'prefix'], bad);
    }
  });
}

function validateFieldRef(ref: { apiVersion: string; fieldPath: string }, at: FieldPath, ctx: ValidationContext): void {
  if (ref.apiVersion !== 'v1') {
    ctx.error([...at, 'apiVersion'], `unsupported pod version: ${ref.apiVersion}`);
    return;
  }
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(ref.fieldPath);
  if (sub) {
    const key = sub[1] === 'metadata.annotations' ? (sub[2] ?? '').toLowerCase() : sub[2] ?? '';
    const bad = qualifiedNameProblem(key, sub[1] === 'metadata.labels' ? 'label key' : 'annotation key');
    if (bad) ctx.error([...at, 'fieldPath'], bad);
    return;
  }
  if (!ENV_FIELD_PATHS.includes(ref.fieldPath)) {
    ctx.error([...at, 'fieldPath'], `unsupported value ${JSON.stringify(ref.fieldPath)}; the downward API gives environment variables: ${ENV_FIELD_PATHS.join(', ')}, metadata.labels['<key>'], metadata.annotations['<key>']`);
  }
}

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function validateResources(r: ResourceRequirements | undefined, path: FieldPath, ctx: ValidationContext): void {
  if (!r) return;
  for (const field of ['limits', 'requests'] as const) {
    for (const [name, value] of Object.entries(r[field] ?? {})) {
      const at = [...path, field, name];
      if (!name.includes('/')) {
        if (!STANDARD_CONTAINER_RESOURCES.includes(name) && !name.startsWith('hugepages-')) ctx.error(at, `invalid resource name ${JSON.stringify(name)}: must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or a qualified extended resource name such as example.com/gpu`);
      } else {
        const bad = qualifiedNameProblem(name, 'resource name');
        if (bad) ctx.error(at, bad);
      }
      if (value < 0) ctx.error(at, 'must be greater than or equal to 0');
    }
  }
  for (const [name, request] of Object.entries(r.requests ?? {})) {
    const limit = r.limits?.[name];
    if (limit !== undefined && request > limit) ctx.error([...path, 'requests', name], `must be less than or equal to ${name} limit`);
  }
}

function validateProbe(p: Probe, path: FieldPath, field: string, portNames: ReadonlySet<string>, ctx: ValidationContext): void {
  const handlers = (['exec', 'httpGet', 'tcpSocket', 'grpc'] as const).filter((h) => p[h] !== undefined);
  if (handlers.length === 0) ctx.error(path, 'must specify a handler type (one of exec, httpGet, tcpSocket, grpc)');
  if (handlers.length > 1) ctx.error([...path, handlers[1] as string], `may not specify more than 1 handler type (found ${handlers.join(' and ')})`);
  if (p.exec && (p.exec.command ?? []).length === 0) ctx.error([...path, 'exec', 'command'], 'missing required field "command"');
  for (const h of ['httpGet', 'tcpSocket'] as const) {
    const port = p[h]?.port;
    if (port === undefined) continue;
    const bad = portNumOrNameProblem(port);
    if (bad) ctx.error([...path, h, 'port'], bad);
    else if (typeof port === 'string' && !portNames.has(port)) ctx.warning([...path, h, 'port'], `port name ${JSON.stringify(port)} is not a port of this container; the probe will fail`);
  }
  if (p.grpc) {
    const bad = portNumberProblem(p.grpc.port);
    if (bad) ctx.error([...path, 'grpc', 'port'], bad);
  }
  if (field !== 'readinessProbe' && p.successThreshold !== 1) ctx.error([...path, 'successThreshold'], 'must be 1');
  if (p.terminationGracePeriodSeconds !== undefined) {
    if (field === 'readinessProbe') ctx.error([...path, 'terminationGracePeriodSeconds'], 'must not be set for readinessProbes');
    else if (p.terminationGracePeriodSeconds <= 0) ctx.error([...path, 'terminationGracePeriodSeconds'], 'must be greater than 0');
  }
}
