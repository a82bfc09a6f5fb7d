/**
 * Sidecar (networking/v1alpha3/sidecar.proto): narrows what a workload's proxy listens on
 * (ingress) and which services it can reach (egress hosts in `namespace/dnsName` form), and its
 * outbound traffic policy. Validation is Istio's ValidateSidecar.
 */
import type { FieldPath } from '../../lib/field-path.js';
import { defineKind, type ValidationContext } from '../resource.js';
import { z, uint32 } from '../schema.js';
import { connectionPoolSettings, checkConnectionPool, portSelector } from './destination-rule-traffic-policy.js';
import { serverTlsSettings, checkServerTls } from './sidecar-tls.js';
import {
  UNIX_ADDRESS_PREFIX, networkingWorkloadSelector, checkNetworkingSelector, ipAddressProblem, isIstioDnsLabel, portNameProblem,
  portProblem, protocolProblem, parseProtocol, isHttpProtocol, isTlsProtocol, unixAddressProblem, splitHostPort,
  wildcardDomainProblem, partialWildcardProblem, fqdnProblem,
} from './networking-checks.js';

export const sidecarPort = z.strictObject({
  /** 0 means a Unix domain socket listener (egress only; `bind` names the socket). */
  number: uint32.optional(),
  protocol: z.string().optional(),
  name: z.string().optional(),
  /** @deprecated has no effect on Sidecars */
  targetPort: uint32.optional(),
});
export type SidecarPort = z.output<typeof sidecarPort>;

export const captureMode = z.enum(['DEFAULT', 'IPTABLES', 'NONE']);

export const istioIngressListener = z.strictObject({
  port: sidecarPort,
  bind: z.string().optional(),
  captureMode: captureMode.default('DEFAULT'),
  /** `127.0.0.1:PORT`, `0.0.0.0:PORT`, `[::1]:PORT`, `[::]:PORT` or `unix:///path`. */
  defaultEndpoint: z.string().optional(),
  tls: serverTlsSettings.optional(),
  connectionPool: connectionPoolSettings.optional(),
});
export type IstioIngressListener = z.output<typeof istioIngressListener>;

export const istioEgressListener = z.strictObject({
  port: sidecarPort.optional(),
  bind: z.string().optional(),
  captureMode: captureMode.default('DEFAULT'),
  hosts: z.array(z.string()),
});
export type IstioEgressListener = z.output<typeof istioEgressListener>;

export const outboundTrafficPolicy = z.strictObject({
  mode: z.enum(['REGISTRY_ONLY', 'ALLOW_ANY']).default('REGISTRY_ONLY'),
  egressProxy: z.strictObject({ host: z.string(), subset: z.string().optional(), port: portSelector.optional() }).optional(),
});
export type OutboundTrafficPolicy = z.output<typeof outboundTrafficPolicy>;

export const sidecarSpec = z.strictObject({
  workloadSelector: networkingWorkloadSelector.optional(),
  ingress: z.array(istioIngressListener).optional(),
  egress: z.array(istioEgressListener).optional(),
  inboundConnectionPool: connectionPoolSettings.optional(),
  outboundTrafficPolicy: outboundTrafficPolicy.optional(),
});
export type SidecarSpec = z.output<typeof sidecarSpec>;

export const sidecarKind = defineKind({
  kind: 'Sidecar',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: sidecarSpec,
  emptySpec: {},
  validate: validateSidecar,
});

function validateSidecar(spec: SidecarSpec, ctx: ValidationContext): void {
  if (checkNetworkingSelector(ctx, spec.workloadSelector, 'sidecar')) return;
  const ingress = spec.ingress ?? [];
  const egress = spec.egress ?? [];
  if (ingress.length === 0 && egress.length === 0 && !spec.outboundTrafficPolicy && !spec.inboundConnectionPool) {
    ctx.error([], 'sidecar: empty configuration provided');
    return;
  }

  const ingressPorts = new Set<number>();
  ingress.forEach((listener, i) => {
    const path = ['ingress', i];
    const { port } = listener;
    if ((port.targetPort ?? 0) > 0) ctx.error([...path, 'port', 'targetPort'], 'targetPort has no impact on Sidecars');
    checkPortAndBind(ctx, path, port, listener.bind);
    const number = port.number ?? 0;
    if (ingressPorts.has(number)) ctx.error([...path, 'port', 'number'], 'sidecar: ports on IP bound listeners must be unique');
    ingressPorts.add(number);
    if (listener.defaultEndpoint) checkDefaultEndpoint(ctx, [...path, 'defaultEndpoint'], listener.defaultEndpoint);
    if (listener.tls) checkIngressTls(ctx, [...path, 'tls'], listener);
    checkConnectionPool(ctx, [...path, 'connectionPool'], listener.connectionPool);
    if (listener.connectionPool?.http && !isHttpProtocol(parseProtocol(port.protocol))) {
      ctx.warning([...path, 'connectionPool', 'http'],
        `sidecar: HTTP connection pool settings are configured for port ${number} ("${port.name ?? ''}") but its protocol is not HTTP (${port.protocol ?? ''}); only TCP settings will apply`);
    }
  });
  checkConnectionPool(ctx, ['inboundConnectionPool'], spec.inboundConnectionPool);

  const egressPorts = new Set<number>();
  const sockets = new Set<string>();
  let catchAll = false;
  egress.forEach((listener, i) => {
    const path = ['egress', i];
    const { port } = listener;
    if (!port) {
      // At most one listener without a port, and it catches what the others do not, so it goes last.
      if (catchAll) {
        ctx.error(path, 'sidecar: egress can have only one listener with empty port');
        return;
      }
      if (i === egress.length - 1) catchAll = true;
      else ctx.error(path, 'sidecar: the egress listener with empty port should be the last listener in the list');
    } else {
      if ((port.targetPort ?? 0) > 0) ctx.error([...path, 'port', 'targetPort'], 'targetPort has no impact on Sidecars');
      checkEgressPort(ctx, path, listener);
      const bind = listener.bind ?? '';
      if ((port.number ?? 0) === 0) {
        if (sockets.has(bind)) ctx.error([...path, 'bind'], 'sidecar: unix domain socket values for listeners must be unique');
        sockets.add(bind);
      } else {
        if (egressPorts.has(port.number ?? 0)) ctx.error([...path, 'port', 'number'], 'sidecar: ports on IP bound listeners must be unique');
        egressPorts.add(port.number ?? 0);
      }
    }
    checkEgressHosts(ctx, [...path, 'hosts'], listener.hosts);
  });

  checkOutboundTrafficPolicy(ctx, ['outboundTrafficPolicy'], spec.outboundTrafficPolicy);
}

/** Istio's validateSidecarIngressPortAndBind (and the IP half of the egress check). */
function checkPortAndBind(ctx: ValidationContext, path: FieldPath, port: SidecarPort, bind: string | undefined): void {
  if (port.name) {
    const problem = portNameProblem(port.name);
    if (problem) ctx.error([...path, 'port', 'name'], problem);
  }
  const protoProblem = protocolProblem(port.protocol);
  if (protoProblem) ctx.error([...path, 'port', 'protocol'], protoProblem);
  const numberProblem = portProblem(port.number ?? 0);
  if (numberProblem) ctx.error([...path, 'port', 'number'], numberProblem);
  if (bind) {
    const bindProblem = ipAddressProblem(bind);
    if (bindProblem) ctx.error([...path, 'bind'], bindProblem);
  }
}

/** Istio's validateSidecarEgressPortBindAndCaptureMode: port 0 is a Unix socket named by `bind`. */
function checkEgressPort(ctx: ValidationContext, path: FieldPath, listener: IstioEgressListener): void {
  const port = listener.port ?? {};
  if ((port.number ?? 0) !== 0) {
    checkPortAndBind(ctx, path, port, listener.bind);
    return;
  }
  if (port.name) {
    const problem = portNameProblem(port.name);
    if (problem) ctx.error([...path, 'port', 'name'], problem);
  }
  const protoProblem = protocolProblem(port.protocol);
  if (protoProblem) ctx.error([...path, 'port', 'protocol'], protoProblem);
  const bind = listener.bind ?? '';
  if (!bind.startsWith(UNIX_ADDRESS_PREFIX)) {
    ctx.error([...path, 'bind'], 'sidecar: ports with 0 value must have a unix domain socket bind address');
  } else {
    const problem = unixAddressProblem(bind.slice(UNIX_ADDRESS_PREFIX.length));
    if (problem) ctx.error([...path, 'bind'], problem);
  }
  if (listener.captureMode !== 'DEFAULT' && listener.captureMode !== 'NONE') {
    ctx.error([...path, 'captureMode'], 'sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners');
  }
}

function checkDefaultEndpoint(ctx: ValidationContext, path: FieldPath, endpoint: string): void {
  if (endpoint.startsWith(UNIX_ADDRESS_PREFIX)) {
    const problem = unixAddressProblem(endpoint.slice(UNIX_ADDRESS_PREFIX.length));
    if (problem) ctx.error(path, problem);
    return;
  }
  const split = splitHostPort(endpoint);
  if ('error' in split) {
    ctx.error(path, split.error);
    return;
  }
  const { host, port } = split;
  if (host !== '' && !['127.0.0.1', '0.0.0.0', '::1', '::'].includes(host)) {
    ctx.error(path, 'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset');
  }
  if (!/^[-+]?\d+$/.test(port)) {
    ctx.error(path, `sidecar: defaultEndpoint port (${port}) is not a number`);
  } else {
    const problem = portProblem(Number(port));
    if (problem) ctx.error(path, problem);
  }
}

function checkIngressTls(ctx: ValidationContext, path: FieldPath, listener: IstioIngressListener): void {
  const tls = listener.tls;
  if (!tls) return;
  if ((tls.subjectAltNames?.length ?? 0) > 0) ctx.error([...path, 'subjectAltNames'], 'sidecar: subjectAltNames is not supported in ingress tls');
  if (tls.httpsRedirect) ctx.error([...path, 'httpsRedirect'], 'sidecar: httpsRedirect is not supported');
  if (tls.credentialName) ctx.error([...path, 'credentialName'], 'sidecar: credentialName is not currently supported');
  if ((tls.credentialNames?.length ?? 0) > 0) ctx.error([...path, 'credentialNames'], 'sidecar: credentialNames is not currently supported');
  if ((tls.tlsCertificates?.length ?? 0) > 0) ctx.error([...path, 'tlsCertificates'], 'sidecar: tls_certificates is not currently supported');
  if (tls.mode === 'ISTIO_MUTUAL' || tls.mode === 'AUTO_PASSTHROUGH') {
    ctx.error([...path, 'mode'], `configuration is invalid: cannot set mode to ${tls.mode} in sidecar ingress tls`);
  }
  if (!isTlsProtocol(parseProtocol(listener.port.protocol))) ctx.error(path, 'server cannot have TLS settings for non HTTPS/TLS ports');
  checkServerTls(ctx, path, tls);
}

/**
 * Egress hosts are `namespace/dnsName`: the namespace is `*`, `.`, a name, or `~name` to exclude it;
 * the name is an FQDN, `*` or a `*.` wildcard. Overlapping entries are warned about, as Istio does.
 */
function checkEgressHosts(ctx: ValidationContext, path: FieldPath, hosts: readonly string[]): void {
  if (hosts.length === 0) {
    ctx.error(path, 'sidecar: egress listener must contain at least one host');
    return;
  }
  const byNamespace = new Map<string, Set<string>>();
  hosts.forEach((host, i) => {
    const slash = host.indexOf('/');
    if (slash >= 0 && !host.startsWith('~')) {
      const ns = host.slice(0, slash) === '.' ? ctx.namespace : host.slice(0, slash);
      const svc = host.slice(slash + 1);
      const names = byNamespace.get(ns) ?? new Set<string>();
      byNamespace.set(ns, names);
      if (svc !== '*' ? names.has(svc) || names.has('*') : names.size > 0) {
        ctx.warning([...path, i], `duplicated egress host: ${host}`);
      }
      names.add(svc);
    }
    for (const problem of namespaceSlashHostProblems(host)) ctx.error([...path, i], problem);
  });
  if (byNamespace.get('*')?.has('*') && byNamespace.size !== 1) {
    ctx.warning(path, '`*/*` host select all resources, no other hosts can be added');
  }
}

/** Istio's ValidateNamespaceSlashWildcardHostname for sidecars. */
function namespaceSlashHostProblems(host: string): string[] {
  const slash = host.indexOf('/');
  if (slash < 0) return ['host must be of form namespace/dnsName'];
  const problems: string[] = [];
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (ns === '' || name === '') problems.push('config namespace and dnsName in host entry cannot be empty');
  const bare = ns.startsWith('~') ? ns.slice(1) : ns;
  if (bare !== '' && bare !== '*' && bare !== '.' && !isIstioDnsLabel(bare)) problems.push(`invalid namespace value "${ns}" in sidecar`);
  if (name !== '*' && !name.includes('.')) problems.push('short names (non FQDN) are not allowed');
  const domainProblem = wildcardDomainProblem(name);
  // Istio appends this one twice for sidecars; once is enough to read.
  if (domainProblem) problems.push(domainProblem);
  const partial = partialWildcardProblem(name);
  if (partial) problems.push(partial);
  return problems;
}

function checkOutboundTrafficPolicy(ctx: ValidationContext, path: FieldPath, policy: OutboundTrafficPolicy | undefined): void {
  const proxy = policy?.egressProxy;
  if (!policy || !proxy) return;
  if (policy.mode !== 'ALLOW_ANY') {
    ctx.error([...path, 'egressProxy'], 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode');
    return;
  }
  const pp = [...path, 'egressProxy'];
  const fqdn = fqdnProblem(proxy.host);
  if (fqdn) ctx.error([...pp, 'host'], fqdn);
  if (!proxy.port) {
    ctx.error(pp, 'sidecar: egress_proxy port must be non-nil');
    return;
  }
  // Istio's validateDestination.
  if (proxy.host === '*') ctx.error([...pp, 'host'], `invalid destination host ${proxy.host}`);
  else {
    const problem = wildcardDomainProblem(proxy.host);
    if (problem && problem !== fqdn) ctx.error([...pp, 'host'], problem);
  }
  if (proxy.subset !== undefined && proxy.subset !== '' && !isIstioDnsLabel(proxy.subset)) ctx.error([...pp, 'subset'], `subset name is invalid: ${proxy.subset}`);
  const portErr = portProblem(proxy.port.number ?? 0);
  if (portErr) ctx.error([...pp, 'port', 'number'], portErr);
}
