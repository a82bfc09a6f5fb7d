/**
 * From a Deployment's template to what one pod runs: Istio's injection (a sidecar `istio-proxy`
 * for injected pods, the gateway proxy filled into an `istio-proxy` container with `image: auto`),
 * the control plane's runtime arguments, each container's command, environment and probe, and
 * the Pod's spec as it will be stored (so `weft get pod -o yaml` shows what really runs).
 *
 * Conventions (shared with the installer, src/install/):
 * - a container whose command[0] is `weft` runs this build's CLI with this Node.js;
 * - a container running `weft control-plane` gets `--config <store> --state-dir
 *   <home>/control-plane/<revision> --bind <pod IP> --replica-id <pod>`; its revision is the pod's
 *   `istio.io/rev` label (`default` or absent: the default revision);
 * - apps get WEFT_BIND_ADDRESS (the address to listen on) and, when injected, HTTP_PROXY and
 *   http_proxy (the sidecar's outbound port: in plain mode the mesh is reached as an HTTP proxy).
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResourceOf } from '../../resources/index.js';
import type { Container as ContainerModel, Probe } from '../../resources/kube/container.js';
import { parseQuantity } from '../../resources/install/quantity.js';
import { injectionRevision, isGateway } from '../../registry/index.js';
import type { PodNetwork, NetworkMode } from '../network.js';
import { expand, resolveEnv, type PodFields } from './env.js';

export const PROXY_CONTAINER = 'istio-proxy';
export const PROXY_PORTS = { outbound: 15001, inbound: 15006, admin: 15000, health: 15021, status: 15020 };

export type ContainerRole = 'app' | 'init' | 'sidecar' | 'gateway' | 'control-plane';

export interface PlannedContainer {
  name: string;
  role: ContainerRole;
  command: string;
  args: string[];
  env: Record<string, string>;
  readinessProbe: Probe | undefined;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  /** The address its probes (and its ports) are on. */
  address: string;
  namedPorts: Map<string, number>;
  /** Why it cannot be started (shown as its waiting reason and in its log), if so. */
  problem?: string;
}

export interface PlannedFile {
  path: string;
  content: string;
}

export interface PodPlan {
  /** The Pod's spec as stored: the template's, with the runtime's additions. */
  spec: Record<string, unknown>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The proxy (sidecar or gateway), started and ready before the others. */
  proxy: PlannedContainer | undefined;
  containers: PlannedContainer[];
  /** Run one after another to completion before anything else starts (as in Kubernetes, before the sidecar too). */
  initContainers: PlannedContainer[];
  files: PlannedFile[];
  /** The revision whose control plane configures this pod's proxy. */
  revision: string | undefined;
  proxyMemoryLimitBytes: number | undefined;
  /** Set when the pod cannot start yet (no control plane for its revision). */
  waitingFor: string | undefined;
}

export interface PlanInput {
  deployment: ResourceOf<'Deployment'>;
  podName: string;
  uid: string;
  templateHash: string;
  namespaceLabels: Readonly<Record<string, string>>;
  network: PodNetwork;
  mode: NetworkMode;
  /** Installed IstioOperators (their values.global.proxy applies to the revision's sidecars). */
  operators: readonly ResourceOf<'IstioOperator'>[];
  services: readonly ResourceOf<'Service'>[];
  storeDir: string;
  controlPlaneStateDir(revision: string): string;
  /** The mesh's one CA root, shared by every revision (Istio's istio-ca-secret). */
  caDir: string;
  podDir: string;
  /** `weft` inside a container: [node, cli main]. */
  weft: { node: string; main: string };
  /** Push addresses over TLS (`ip:port`, istiod's 15012) of the revision's running control plane pods. */
  controlPlaneAddresses(revision: string): string[];
  /** The name the revision's control plane certificate carries for proxies to check (Istio's `istiod[-<rev>].<ns>.svc`). */
  controlPlaneSan(revision: string): string;
  /** The mesh root certificate(s), PEM (Istio's `istio-ca-root-cert` ConfigMap); undefined until the CA made one. */
  meshRootCert(): string | undefined;
  /** The revision's stable control plane address (like istiod's Service), if any. */
  controlPlaneService?: (revision: string) => string | undefined;
  /** The token for a proxy node id + service account. */
  mintToken(revision: string, nodeId: string, serviceAccount: string): string;
  /** Environment every container starts from (PATH, HOME, ...). */
  baseEnv: Record<string, string>;
}

export function planPod(input: PlanInput): PodPlan {
  const { deployment: d, network } = input;
  const rawTemplate = (d.raw.spec as { template: { metadata?: Record<string, unknown>; spec: Record<string, unknown> } }).template;
  const spec = structuredClone(rawTemplate.spec);
  const rawContainers = spec.containers as Record<string, unknown>[];
  const template = d.spec.template;
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': input.templateHash };
  const annotations = { ...(template.metadata?.annotations ?? {}) };
  const pod: PodFields = {
    name: input.podName, namespace: d.metadata.namespace, uid: input.uid, serviceAccountName: template.spec.serviceAccountName,
    podIP: network.ip, labels, annotations,
  };

  const gatewayIndex = template.spec.containers.findIndex((c) => c.name === PROXY_CONTAINER && c.image === 'auto');
  const gateway = gatewayIndex >= 0;
  const asked = gateway
    ? injectionRevision({ ...labels, 'sidecar.istio.io/inject': 'true' }, annotations, input.namespaceLabels, false) ?? ''
    : injectionRevision(labels, annotations, input.namespaceLabels, template.spec.hostNetwork);
  const revision = asked === '' ? defaultRevisionTag(input.operators) : asked;
  // The control plane itself is never injected (Istio's istiod template says inject: "false").
  const sidecar = !gateway && revision !== undefined && !template.spec.containers.some(runsControlPlane);
  const appAddress = sidecar ? network.appAddress : network.ip;
  const files: PlannedFile[] = [];
  // A sidecar's limit comes from the pod or the install's proxy values; a gateway's from its own
  // container (the installer renders the gateway component's k8s.resources there).
  const gatewayMemory = gateway ? template.spec.containers[gatewayIndex]?.resources?.limits?.memory : undefined;
  const memory = gateway ? gatewayMemory : sidecar ? proxyMemoryLimit(annotations, input.operators, revision ?? '') : undefined;
  let waitingFor: string | undefined;

  const proxyArgs = (role: 'sidecar' | 'ingress-gateway' | 'egress-gateway'): string[] => {
    const rev = revision ?? '';
    const nodeId = `${input.podName}.${d.metadata.namespace}`;
    const node = { id: nodeId, role, namespace: d.metadata.namespace, workload: d.metadata.name, labels, serviceAccount: pod.serviceAccountName, ip: network.ip, revision: rev };
    files.push({ path: `${input.podDir}/node.json`, content: JSON.stringify(node, null, 2) });
    files.push({ path: `${input.podDir}/token`, content: `${input.mintToken(rev, nodeId, pod.serviceAccountName)}\n` });
    // Mounted as Istio mounts the root ConfigMap: the proxy verifies the control plane against it.
    const root = input.meshRootCert();
    if (root !== undefined) files.push({ path: `${input.podDir}/root-cert.pem`, content: root });
    const servers = input.controlPlaneAddresses(rev);
    if (servers.length === 0) waitingFor = `the control plane of revision ${rev === '' ? 'default' : rev}`;
    else if (root === undefined) waitingFor = 'the mesh root certificate';
    // Last, the revision's stable address: reached when every pod above has gone (failover).
    const stable = input.controlPlaneService?.(rev);
    if (stable !== undefined && !servers.includes(stable)) servers.push(stable);
    return [
      '--control-plane', servers.join(','), '--node', `${input.podDir}/node.json`, '--token-file', `${input.podDir}/token`,
      '--root-cert', `${input.podDir}/root-cert.pem`, '--control-plane-san', input.controlPlaneSan(rev),
      '--bind', network.ip, '--admin-bind', network.ip,
    ];
  };

  const containers: PlannedContainer[] = [];
  let proxy: PlannedContainer | undefined;
  // netns: the kubelet's probes would be captured into the sidecar (plaintext, refused under
  // STRICT), so they are rewritten as Istio's injector does and the proxy runs them in the pod.
  const probers: Record<string, AppProber> | undefined = sidecar && input.mode === 'netns' ? {} : undefined;
  template.spec.containers.forEach((original, i) => {
    const raw = rawContainers[i] as Record<string, unknown>;
    const c = probers && i !== gatewayIndex ? rewriteProbes(original, appAddress, probers, raw) : original;
    if (i === gatewayIndex) {
      // Istio's label, or the install's component label when an entry's own `label` replaced `istio`.
      const role = labels.istio === 'egressgateway' || labels['operator.istio.io/component'] === 'EgressGateways' ? 'egress-gateway' : 'ingress-gateway';
      const portMap = gatewayPortMap(input.services, d.metadata.namespace, labels, c);
      const args = [...proxyArgs(role), '--role', role, ...(portMap ? ['--port-map', portMap] : []), ...(c.args ?? [])];
      raw.image = 'weft/proxy';
      raw.command = ['weft', 'proxy'];
      raw.args = args;
      if (!c.readinessProbe) raw.readinessProbe = { httpGet: { path: '/healthz/ready', port: PROXY_PORTS.health }, periodSeconds: 2, failureThreshold: 30 };
      proxy = plannedContainer(c, 'gateway', ['weft', 'proxy'], args, network.ip, pod, input, memory, c.readinessProbe ?? proxyProbe());
      return;
    }
    let command = c.command ?? [];
    let args = c.args ?? [];
    let role: ContainerRole = 'app';
    if (runsControlPlane(c)) {
      role = 'control-plane';
      const cpRevision = labels['istio.io/rev'] === undefined || labels['istio.io/rev'] === 'default' ? '' : labels['istio.io/rev'];
      args = [...args, '--config', input.storeDir, '--state-dir', input.controlPlaneStateDir(cpRevision), '--ca-dir', input.caDir, '--bind', network.ip, '--replica-id', input.podName,
        '--namespace', d.metadata.namespace];
      raw.args = args;
    }
    if (command.length === 0) command = [];
    containers.push(plannedContainer(c, role, command, args, appAddress, pod, input, undefined, c.readinessProbe));
  });

  if (sidecar) {
    // Plain mode: the sidecar listens on the pod address at each app port and hands inbound
    // traffic to the app on its own address (the bootstrap's appAddress).
    const appPorts = template.spec.containers.flatMap((c) => (c.ports ?? []).filter((p) => p.protocol === 'TCP').map((p) => p.containerPort));
    const args = proxyArgs('sidecar');
    if (input.mode === 'netns') {
      // Captured: 15001/15006 receive redirected connections (outbound ones arrive on 127.0.0.1).
      args[args.indexOf('--bind') + 1] = '0.0.0.0';
      args.push('--interception-mode', 'REDIRECT');
    }
    if (probers && Object.keys(probers).length > 0) args.push('--app-probers', JSON.stringify(probers));
    if (input.mode === 'plain') {
      files.push({ path: `${input.podDir}/bootstrap.json`, content: JSON.stringify({ appAddress }) });
      args.push('--bootstrap', `${input.podDir}/bootstrap.json`);
      if (appPorts.length > 0) args.push('--inbound-port-map', [...new Set(appPorts)].map((p) => `${p}=${p}`).join(','));
    }
    const rawProxy: Record<string, unknown> = {
      name: PROXY_CONTAINER, image: 'weft/proxy', command: ['weft', 'proxy'], args,
      readinessProbe: { httpGet: { path: '/healthz/ready', port: PROXY_PORTS.health }, periodSeconds: 2, failureThreshold: 30 },
    };
    if (memory !== undefined) setMemoryLimit(rawProxy, memory);
    rawContainers.push(rawProxy);
    proxy = plannedContainer({ name: PROXY_CONTAINER, image: 'weft/proxy' } as ContainerModel, 'sidecar', ['weft', 'proxy'], args, network.ip, pod, input, memory, proxyProbe());
    annotations['sidecar.istio.io/status'] = JSON.stringify({ containers: [PROXY_CONTAINER], revision: revision === '' ? 'default' : revision });
    // Istio's injector labels the pod: clients send Istio mTLS only to endpoints so labelled
    // (gateways are not, so a plain port on an egress gateway is reached in plaintext).
    labels['security.istio.io/tlsMode'] = 'istio';
    for (const c of containers) {
      // With netns capture the app needs no proxy setting: its connections are redirected.
      if (c.role !== 'app' || input.mode !== 'plain') continue;
      const url = `http://${network.ip}:${PROXY_PORTS.outbound}`;
      c.env.HTTP_PROXY ??= url;
      c.env.http_proxy ??= url;
    }
  }
  // Native sidecars (init containers with restartPolicy: Always) run beside the apps instead.
  const initContainers: PlannedContainer[] = [];
  for (const c of template.spec.initContainers ?? []) {
    const planned = plannedContainer(c, 'init', c.command ?? [], c.args ?? [], appAddress, pod, input, undefined, c.restartPolicy === 'Always' ? c.readinessProbe : undefined);
    if (c.restartPolicy === 'Always') containers.unshift({ ...planned, role: 'app' });
    else initContainers.push(planned);
  }
  return { spec, labels, annotations, proxy, containers, initContainers, files, revision: gateway || sidecar ? revision : undefined, proxyMemoryLimitBytes: memory, waitingFor };
}

/** `command: [weft, control-plane]` (or `[weft]` with `args: [control-plane, ...]`). */
export function runsControlPlane(c: Pick<ContainerModel, 'command' | 'args'>): boolean {
  const command = c.command ?? [];
  return command[0] === 'weft' && (command[1] === 'control-plane' || (command.length === 1 && c.args?.[0] === 'control-plane'));
}

function plannedContainer(c: ContainerModel, role: ContainerRole, command: readonly string[], args: readonly string[], address: string, pod: PodFields, input: PlanInput, memory: number | undefined, probe: Probe | undefined): PlannedContainer {
  const { env, problems } = resolveEnv(c, pod, { ...input.baseEnv, WEFT_BIND_ADDRESS: address });
  const expanded = [...command, ...args].map((a) => expand(a, env));
  const namedPorts = new Map((c.ports ?? []).filter((p) => p.name).map((p) => [p.name ?? '', p.containerPort]));
  let exe = expanded[0] ?? '';
  let argv = expanded.slice(1);
  if (exe === 'weft') {
    // Node's heap limit from the memory limit: 3/4 of it, leaving room for buffers and code.
    const heap = memory !== undefined ? [`--max-old-space-size=${Math.max(16, Math.floor((memory * 0.75) / (1024 * 1024)))}`] : [];
    exe = input.weft.node;
    argv = [...heap, argv[0] === 'proxy' ? proxyEntry(input.weft.main) : input.weft.main, ...argv];
  }
  if (command.length === 0) problems.push('no command: the local runtime runs commands, not images (set `command:`)');
  return {
    name: c.name, role, command: exe, args: argv, env, readinessProbe: probe, address, namedPorts,
    ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
    ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}),
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
  };
}

/**
 * `weft proxy` runs the bundled proxy entry beside the CLI when the build made one (less idle
 * memory per proxy), unless tsc wrote the CLI again after it (a bundle of older code).
 */
function proxyEntry(main: string): string {
  const bundle = join(dirname(main), 'proxy-bundle', 'weft-proxy.js');
  const source = join(dirname(main), 'commands', 'proxy-entry.js');
  try {
    return statSync(bundle).mtimeMs >= statSync(source).mtimeMs ? bundle : main;
  } catch {
    return main;
  }
}

function proxyProbe(): Probe {
  return {
    httpGet: { path: '/healthz/ready', port: PROXY_PORTS.health, scheme: 'HTTP' },
    initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 2, successThreshold: 1, failureThreshold: 30,
  };
}

function setMemoryLimit(raw: Record<string, unknown>, bytes: number): void {
  const resources = { ...((raw.resources ?? {}) as Record<string, unknown>) };
  resources.limits = { ...((resources.limits ?? {}) as Record<string, unknown>), memory: String(bytes) };
  raw.resources = resources;
}

/**
 * The sidecar's memory limit: the pod's `sidecar.istio.io/proxyMemoryLimit` annotation, else the
 * revision's installed IstioOperator `values.global.proxy.resources.limits.memory`, else none.
 */
export function proxyMemoryLimit(annotations: Readonly<Record<string, string>>, operators: readonly ResourceOf<'IstioOperator'>[], revision: string): number | undefined {
  const fromAnnotation = annotations['sidecar.istio.io/proxyMemoryLimit'];
  const candidates = operators.filter((o) => (o.spec.revision ?? '') === revision && o.metadata.name.startsWith('installed-state'));
  const op = candidates[0] ?? operators.find((o) => (o.spec.revision ?? '') === revision);
  const fromValues = op?.spec.values?.global?.proxy?.resources?.limits?.memory;
  const value = fromAnnotation ?? fromValues ?? undefined;
  if (value === undefined || value === null) return undefined;
  try {
    return parseQuantity(value);
  } catch {
    return undefined;
  }
}

/**
 * A gateway's listener ports as bound ports: a Service selecting the pod maps `port` to
 * `targetPort` (Istio's ingress Service: 80 -> 8080, 443 -> 8443), so the proxy serves the
 * Gateway's port 80 where the Service sends it, without root.
 */
function gatewayPortMap(services: readonly ResourceOf<'Service'>[], namespace: string, labels: Readonly<Record<string, string>>, c: ContainerModel): string | undefined {
  const map = new Map<number, number>();
  for (const s of services) {
    if (s.metadata.namespace !== namespace) continue;
    const selector = s.spec.selector ?? {};
    if (Object.keys(selector).length === 0 || !Object.entries(selector).every(([k, v]) => labels[k] === v)) continue;
    for (const p of s.spec.ports ?? []) {
      const target = typeof p.targetPort === 'number' ? p.targetPort
        : typeof p.targetPort === 'string' ? c.ports?.find((cp) => cp.name === p.targetPort)?.containerPort : p.port;
      if (target !== undefined && target !== p.port) map.set(p.port, target);
    }
  }
  for (const p of [80, 443]) if (!map.has(p)) map.set(p, p + 8000);
  return [...map].map(([from, to]) => `${from}=${to}`).join(',');
}

export { isGateway };

/**
 * The revision that "the default revision" means: '' when a default-revision control plane is
 * installed, else the revision whose installed state carries istioctl's default tag
 * (`values.defaultRevision`, set for the first revision installed in a mesh; src/install/default-revision.ts).
 */
export function defaultRevisionTag(operators: readonly ResourceOf<'IstioOperator'>[]): string {
  const installed = operators.filter((o) => o.metadata.name.startsWith('installed-state'));
  if (installed.some((o) => (o.spec.revision ?? '') === '')) return '';
  const tagged = installed.find((o) => {
    const values = o.spec.values as Record<string, unknown> | undefined;
    return typeof values?.defaultRevision === 'string' && values.defaultRevision === o.spec.revision;
  });
  return tagged?.spec.revision ?? '';
}

/** One rewritten probe as the proxy's `--app-probers` JSON takes it (Istio's ISTIO_KUBE_APP_PROBERS). */
interface AppProber {
  httpGet?: { path: string; port: number; scheme: 'HTTP' | 'HTTPS'; host: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number; host: string };
  timeoutSeconds: number;
}

const PROBE_KINDS = [['readinessProbe', 'readyz'], ['livenessProbe', 'livez'], ['startupProbe', 'startupz']] as const;

/**
 * Istio's probe rewrite (kube/inject: rewriteAppHTTPProbe): each HTTP or TCP probe of an app
 * container becomes an HTTP GET of `/app-health/<container>/<readyz|livez|startupz>` on the
 * sidecar's status port, and the original goes to the proxy as a prober (app-health.ts). The
 * pod object shows the rewritten probes, as in Kubernetes.
 */
function rewriteProbes(c: ContainerModel, appAddress: string, probers: Record<string, AppProber>, raw: Record<string, unknown>): ContainerModel {
  const out: ContainerModel = { ...c };
  const portOf = (p: number | string): number | undefined => (typeof p === 'number' ? p : c.ports?.find((x) => x.name === p)?.containerPort ?? (/^\d+$/.test(p) ? Number(p) : undefined));
  for (const [field, kind] of PROBE_KINDS) {
    const probe = c[field];
    const port = probe?.httpGet ? portOf(probe.httpGet.port) : probe?.tcpSocket ? portOf(probe.tcpSocket.port) : undefined;
    if (!probe || port === undefined) continue;
    const path = `/app-health/${c.name}/${kind}`;
    probers[path] = probe.httpGet
      ? { httpGet: { path: probe.httpGet.path, port, scheme: probe.httpGet.scheme, host: probe.httpGet.host ?? appAddress, ...(probe.httpGet.httpHeaders ? { httpHeaders: probe.httpGet.httpHeaders } : {}) }, timeoutSeconds: probe.timeoutSeconds }
      : { tcpSocket: { port, host: probe.tcpSocket?.host ?? appAddress }, timeoutSeconds: probe.timeoutSeconds };
    const { tcpSocket: _tcp, ...rest } = probe;
    const rewritten = { ...rest, httpGet: { path, port: PROXY_PORTS.status, scheme: 'HTTP' as const } };
    out[field] = rewritten;
    const { tcpSocket: _rawTcp, ...rawRest } = (raw[field] ?? {}) as Record<string, unknown>;
    raw[field] = { ...rawRest, httpGet: { path, port: PROXY_PORTS.status, scheme: 'HTTP' } };
  }
  return out;
}
