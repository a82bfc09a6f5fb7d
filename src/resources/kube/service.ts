/**
 * Kubernetes' Service (core/v1): the registry's source of hostnames, ports and the labels that
 * pick endpoints. Checked as the API server's ValidateService checks it, with its defaults applied
 * (protocol TCP, targetPort = port, type ClusterIP, sessionAffinity None) so consumers never guess.
 */
import { isIP } from 'node:net';
import { defineKind, type ValidationContext } from '../resource.js';
import { z, labels, isDns1123Subdomain } from '../schema.js';
import { intOrString, looseObject, protocol, portNumberProblem, portNumOrNameProblem, dns1123LabelProblem, qualifiedNameProblem } from './container.js';

export const servicePort = z.strictObject({
  /** Required when the Service has more than one port; Istio reads the protocol from its prefix. */
  name: z.string().optional(),
  protocol: protocol.default('TCP'),
  /** Istio prefers it to the name for protocol selection. */
  appProtocol: z.string().optional(),
  port: z.number().int(),
  targetPort: intOrString.optional(),
  nodePort: z.number().int().optional(),
}).transform((p) => ({
  ...p,
  // SetDefaults_Service: an unset (or zero) targetPort means the same as `port`.
  targetPort: p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '' ? p.port : p.targetPort,
}));
export type ServicePort = z.output<typeof servicePort>;

export const serviceType = z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);
export type ServiceType = z.output<typeof serviceType>;

const trafficPolicy = z.enum(['Cluster', 'Local']);

export const serviceSpec = z.strictObject({
  type: serviceType.default('ClusterIP'),
  selector: labels.optional(),
  ports: z.array(servicePort).optional(),
  clusterIP: z.string().optional(),
  clusterIPs: z.array(z.string()).optional(),
  externalName: z.string().optional(),
  externalIPs: z.array(z.string()).optional(),
  sessionAffinity: z.enum(['ClientIP', 'None']).default('None'),
  sessionAffinityConfig: z.strictObject({
    clientIP: z.strictObject({ timeoutSeconds: z.number().int().optional() }).optional(),
  }).optional(),
  externalTrafficPolicy: trafficPolicy.optional(),
  internalTrafficPolicy: trafficPolicy.optional(),
  ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional(),
  ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
  /** Publishes endpoints of pods that are not ready (headless services for StatefulSets). */
  publishNotReadyAddresses: z.boolean().optional(),
  /** @deprecated Kubernetes 1.24: use the implementation's annotations instead. */
  loadBalancerIP: z.string().optional(),
  loadBalancerSourceRanges: z.array(z.string()).optional(),
  loadBalancerClass: z.string().optional(),
  allocateLoadBalancerNodePorts: z.boolean().optional(),
  healthCheckNodePort: z.number().int().optional(),
  trafficDistribution: z.enum(['PreferClose', 'PreferSameZone', 'PreferSameNode']).optional(),
});
export type ServiceSpec = z.output<typeof serviceSpec>;

/** Written by the cluster; accepted so that `kubectl get -o yaml` output applies. */
const serviceStatus = z.strictObject({
  loadBalancer: z.strictObject({ ingress: z.array(looseObject).optional() }).optional(),
  conditions: z.array(looseObject).optional(),
});

export const serviceKind = defineKind({
  kind: 'Service',
  group: '',
  versions: ['v1'],
  namespaced: true,
  nameFormat: 'dns1035-label',
  spec: serviceSpec,
  emptySpec: {},
  topLevel: { status: serviceStatus.optional() },
  validate: validateService,
});

/** clusterIP: None: no virtual IP, DNS answers with the pods' addresses. */
export function isHeadless(spec: Pick<ServiceSpec, 'clusterIP'>): boolean {
  return spec.clusterIP === 'None';
}

const KUBELET_PORT = 10250;

function validateService(spec: ServiceSpec, ctx: ValidationContext): void {
  const ports = spec.ports ?? [];
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') {
    ctx.error(['ports'], 'missing required field "ports": a Service needs at least one port unless it is headless (clusterIP: None) or of type ExternalName');
  }

  switch (spec.type) {
    case 'LoadBalancer':
    case 'NodePort':
      if (headless) ctx.error(['clusterIP'], `may not be set to 'None' for ${spec.type} services`);
      if (spec.type === 'LoadBalancer') {
        ports.forEach((p, i) => {
          if (p.port === KUBELET_PORT) ctx.error(['ports', i, 'port'], `may not expose port ${KUBELET_PORT} externally since it is used by kubelet`);
        });
      }
      break;
    case 'ExternalName': {
      if (spec.clusterIP) ctx.error(['clusterIP'], 'may not be set for ExternalName services');
      if (spec.clusterIPs?.length) ctx.error(['clusterIPs'], 'may not be set for ExternalName services');
      if (spec.ipFamilies?.length) ctx.error(['ipFamilies'], 'may not be set for ExternalName services');
      if (spec.ipFamilyPolicy) ctx.error(['ipFamilyPolicy'], 'may not be set for ExternalName services');
      // The value is a CNAME; a trailing dot marks it fully qualified.
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname === '') ctx.error(['externalName'], 'missing required field "externalName": a Service of type ExternalName needs the DNS name it aliases');
      else if (!isDns1123Subdomain(cname)) ctx.error(['externalName'], `invalid externalName ${JSON.stringify(spec.externalName)}: must be a lowercase RFC 1123 subdomain`);
      break;
    }
    case 'ClusterIP':
      ports.forEach((p, i) => {
        if (p.nodePort) ctx.error(['ports', i, 'nodePort'], "may not be used when `type` is 'ClusterIP'");
      });
      break;
  }

  validatePorts(ports, ctx);
  validateClusterIPs(spec, ctx);

  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (timeout !== undefined && (timeout <= 0 || timeout > 86400)) {
      ctx.error(['sessionAffinityConfig', 'clientIP', 'timeoutSeconds'], `invalid value ${timeout}: must be greater than 0 and less than 86400`);
    }
  } else if (spec.sessionAffinityConfig) {
    ctx.error(['sessionAffinityConfig'], 'must not be set when session affinity is None');
  }

  spec.externalIPs?.forEach((ip, i) => {
    if (isIP(ip) === 0) ctx.error(['externalIPs', i], `invalid IP address ${JSON.stringify(ip)}`);
  });

  const loadBalancer = spec.type === 'LoadBalancer';
  if (spec.loadBalancerSourceRanges?.length) {
    if (!loadBalancer) ctx.error(['loadBalancerSourceRanges'], "may only be used when `type` is 'LoadBalancer'");
    spec.loadBalancerSourceRanges.forEach((cidr, i) => {
      if (!isCidr(cidr.trim())) ctx.error(['loadBalancerSourceRanges', i], `invalid CIDR ${JSON.stringify(cidr)}: must be an address and prefix length such as 10.0.0.0/8`);
    });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && !loadBalancer) ctx.error(['allocateLoadBalancerNodePorts'], "may only be used when `type` is 'LoadBalancer'");
  if (spec.loadBalancerClass !== undefined) {
    if (!loadBalancer) ctx.error(['loadBalancerClass'], "may only be used when `type` is 'LoadBalancer'");
    else {
      const bad = qualifiedNameProblem(spec.loadBalancerClass, 'loadBalancerClass');
      if (bad) ctx.error(['loadBalancerClass'], bad);
    }
  }

  // Only a Service reachable from outside the cluster has an external policy to choose.
  const external = spec.type === 'NodePort' || loadBalancer || (spec.type === 'ClusterIP' && (spec.externalIPs?.length ?? 0) > 0);
  if (spec.externalTrafficPolicy !== undefined && !external) ctx.error(['externalTrafficPolicy'], 'may only be set for externally-accessible services');
  if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort !== 0) {
    if (!loadBalancer || spec.externalTrafficPolicy !== 'Local') {
      ctx.error(['healthCheckNodePort'], "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    } else {
      const bad = portNumberProblem(spec.healthCheckNodePort);
      if (bad) ctx.error(['healthCheckNodePort'], bad);
    }
  }
  if (spec.type === 'ExternalName' && spec.internalTrafficPolicy !== undefined) ctx.error(['internalTrafficPolicy'], 'may not be set for ExternalName services');
}

function validatePorts(ports: readonly ServicePort[], ctx: ValidationContext): void {
  const names = new Set<string>();
  const numbers = new Map<string, number>();
  const nodePorts = new Map<string, number>();
  ports.forEach((p, i) => {
    const at = ['ports', i];
    if (p.name === undefined || p.name === '') {
      if (ports.length > 1) ctx.error([...at, 'name'], 'missing required field "name": every port needs a name when a Service has more than one port');
    } else {
      const bad = dns1123LabelProblem(p.name, 'port name');
      if (bad) ctx.error([...at, 'name'], bad);
      else if (names.has(p.name)) ctx.error([...at, 'name'], `duplicate port name ${JSON.stringify(p.name)}`);
      names.add(p.name);
    }
    const badPort = portNumberProblem(p.port);
    if (badPort) ctx.error([...at, 'port'], badPort);
    const badTarget = portNumOrNameProblem(p.targetPort);
    if (badTarget) ctx.error([...at, 'targetPort'], badTarget);
    if (p.appProtocol !== undefined) {
      const bad = qualifiedNameProblem(p.appProtocol, 'appProtocol');
      if (bad) ctx.error([...at, 'appProtocol'], bad);
    }
    if (p.nodePort) {
      const badNode = portNumberProblem(p.nodePort);
      if (badNode) ctx.error([...at, 'nodePort'], badNode);
      const key = `${p.protocol}/${p.nodePort}`;
      if (nodePorts.has(key)) ctx.error([...at, 'nodePort'], `duplicate nodePort ${p.nodePort}/${p.protocol} (also ports[${nodePorts.get(key)}])`);
      else nodePorts.set(key, i);
    }
    const key = `${p.protocol}/${p.port}`;
    if (numbers.has(key)) ctx.error(at, `duplicate port ${p.port}/${p.protocol} (also ports[${numbers.get(key)}])`);
    else numbers.set(key, i);
  });
}

function validateClusterIPs(spec: ServiceSpec, ctx: ValidationContext): void {
  const validIP = (ip: string) => ip === 'None' || ip === '' || isIP(ip) !== 0;
  if (spec.clusterIP !== undefined && !validIP(spec.clusterIP)) {
    ctx.error(['clusterIP'], `invalid value ${JSON.stringify(spec.clusterIP)}: must be a valid IP address, "None" or empty`);
  }
  const ips = spec.clusterIPs ?? [];
  if (ips.length > 2) ctx.error(['clusterIPs'], 'may only hold up to 2 values');
  ips.forEach((ip, i) => {
    if (i > 0 && ip === 'None') ctx.error(['clusterIPs', i], 'must not be "None" when more than one IP is given');
    else if (!validIP(ip)) ctx.error(['clusterIPs', i], `invalid IP address ${JSON.stringify(ip)}`);
  });
  if (spec.clusterIP && ips.length > 0 && ips[0] !== spec.clusterIP) ctx.error(['clusterIPs', 0], 'must match `clusterIP` when both are set');
  if (ips.length === 2 && isIP(ips[0] ?? '') !== 0 && isIP(ips[0] ?? '') === isIP(ips[1] ?? '')) {
    ctx.error(['clusterIPs', 1], 'may not hold two addresses of the same IP family');
  }

  const families = spec.ipFamilies ?? [];
  if (families.length > 2) ctx.error(['ipFamilies'], 'may only hold up to 2 values');
  if (families.length === 2 && families[0] === families[1]) ctx.error(['ipFamilies', 1], `duplicate value ${JSON.stringify(families[1])}`);
  const dual = families.length === 2 || ips.length === 2;
  if (dual && (spec.ipFamilyPolicy ?? 'SingleStack') === 'SingleStack') {
    ctx.error(['ipFamilyPolicy'], 'must be PreferDualStack or RequireDualStack when two IP families or cluster IPs are given');
  }
}

function isCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(text.slice(0, slash));
  const bits = text.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
