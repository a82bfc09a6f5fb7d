/**
 * ServiceEntry (networking/v1alpha3/service_entry.proto): adds a service to the mesh's registry,
 * usually an external one, with its hosts, ports, resolution and endpoints. Validation is Istio's
 * ValidateServiceEntry.
 */
import { defineKind, type ValidationContext } from '../resource.js';
import { z, portNumber } from '../schema.js';
import { workloadEntrySpec, checkWorkloadEntry } from './workload-entry.js';
import {
  networkingWorkloadSelector, checkNetworkingSelector, checkExportTo, wildcardDomainProblem, partialWildcardProblem,
  fqdnProblem, ipSubnetProblem, isIpAddress, isWildcarded, portNameProblem, protocolProblem, parseProtocol,
  isHttpProtocol, isTlsProtocol, isTcpProtocol,
} from './networking-checks.js';

export const servicePort = z.strictObject({
  number: portNumber,
  /** HTTP, HTTPS, HTTP2, GRPC, TLS, TCP, MONGO, ...; empty means detect. Case-insensitive. */
  protocol: z.string().max(256).optional(),
  name: z.string().max(256),
  targetPort: portNumber.optional(),
});
export type ServicePort = z.output<typeof servicePort>;

export const serviceEntryLocation = z.enum(['MESH_EXTERNAL', 'MESH_INTERNAL']);
export const serviceEntryResolution = z.enum(['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']);
export type ServiceEntryResolution = z.output<typeof serviceEntryResolution>;

export const serviceEntrySpec = z.strictObject({
  hosts: z.array(z.string()).max(256),
  addresses: z.array(z.string().max(64)).max(256).optional(),
  ports: z.array(servicePort).max(256).optional(),
  location: serviceEntryLocation.default('MESH_EXTERNAL'),
  resolution: serviceEntryResolution.default('NONE'),
  endpoints: z.array(workloadEntrySpec).max(4096).optional(),
  workloadSelector: networkingWorkloadSelector.optional(),
  exportTo: z.array(z.string()).optional(),
  subjectAltNames: z.array(z.string()).optional(),
});
export type ServiceEntrySpec = z.output<typeof serviceEntrySpec>;

export const serviceEntryKind = defineKind({
  kind: 'ServiceEntry',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: serviceEntrySpec,
  emptySpec: {},
  validate: validateServiceEntry,
});

function validateServiceEntry(spec: ServiceEntrySpec, ctx: ValidationContext): void {
  // Istio stops at a bad selector before looking at anything else.
  if (checkNetworkingSelector(ctx, spec.workloadSelector, 'service entry')) return;
  const { hosts, resolution } = spec;
  const addresses = spec.addresses ?? [];
  const ports = spec.ports ?? [];
  const endpoints = spec.endpoints ?? [];

  if (spec.workloadSelector && spec.endpoints) ctx.error(['endpoints'], 'only one of WorkloadSelector or Endpoints is allowed in Service Entry');
  if (hosts.length === 0) ctx.error(['hosts'], 'service entry must have at least one host');
  hosts.forEach((host, i) => {
    if (host === '*') {
      ctx.error(['hosts', i], `invalid host ${host}`);
      return;
    }
    const problem = wildcardDomainProblem(host);
    if (problem) ctx.error(['hosts', i], problem);
    const partial = resolution !== 'DYNAMIC_DNS' ? partialWildcardProblem(host) : undefined;
    if (partial) ctx.warning(['hosts', i], partial);
  });

  addresses.forEach((address, i) => {
    const problem = ipSubnetProblem(address);
    if (problem) ctx.error(['addresses', i], problem);
  });
  if (addresses.some((a) => a.includes('/')) && resolution !== 'NONE' && resolution !== 'STATIC') {
    ctx.error(['resolution'], 'CIDR addresses are allowed only for NONE/STATIC resolution types');
  }

  const portNames = new Set<string>();
  const portNumbers = new Set<number>();
  ports.forEach((port, i) => {
    if (portNames.has(port.name)) ctx.error(['ports', i, 'name'], `service entry port name "${port.name}" already defined`);
    portNames.add(port.name);
    if (portNumbers.has(port.number)) ctx.error(['ports', i, 'number'], `service entry port ${port.number} already defined`);
    portNumbers.add(port.number);
    const nameProblem = portNameProblem(port.name);
    if (nameProblem) ctx.error(['ports', i, 'name'], nameProblem);
    const protoProblem = protocolProblem(port.protocol);
    if (protoProblem) ctx.error(['ports', i, 'protocol'], protoProblem);
  });

  switch (resolution) {
    case 'NONE':
      if (endpoints.length > 0) ctx.error(['endpoints'], 'no endpoints should be provided for resolution type none');
      if (spec.workloadSelector) ctx.warning(['workloadSelector'], 'workloadSelector should not be set when resolution mode is NONE');
      break;
    case 'STATIC':
      endpoints.forEach((ep, i) => checkWorkloadEntry(ctx, ['endpoints', i], ep, { servicePorts: portNames, allowFqdn: false }));
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      checkDnsResolution(ctx, spec, portNames);
      break;
    case 'DYNAMIC_DNS':
      hosts.forEach((host, i) => {
        if (!isWildcarded(host)) ctx.error(['hosts', i], `host must be wildcarded for resolution mode ${resolution}`);
      });
      if (addresses.length > 0) {
        ctx.error(['addresses'], `addresses cannot be set for resolution type ${resolution}. HTTP route domains will only be generated from the hosts field values`);
      }
      if (endpoints.length > 0) {
        ctx.error(['endpoints'], `endpoints cannot be set for resolution type ${resolution}. Destination IP address determined from hosts field values`);
      }
      ports.forEach((port, i) => {
        const p = parseProtocol(port.protocol);
        if (p !== 'HTTP' && p !== 'TLS' && p !== 'GRPC' && p !== 'HTTP2') {
          ctx.error(['ports', i, 'protocol'], `only HTTP, TLS, GRPC, and HTTP2 protocols are supported for resolution type ${resolution}`);
        }
      });
      break;
  }

  // Plain TCP cannot tell hosts apart (no Host header, no SNI), so several hosts need NONE resolution.
  if (resolution !== 'NONE' && hosts.length > 1) {
    const i = ports.findIndex((port) => {
      const p = parseProtocol(port.protocol);
      return !isHttpProtocol(p) && !isTlsProtocol(p);
    });
    if (i >= 0) ctx.error(['ports', i], 'multiple hosts provided with non-HTTP, non-TLS ports');
  }

  checkExportTo(ctx, ['exportTo'], spec.exportTo, { serviceEntry: true });
}

function checkDnsResolution(ctx: ValidationContext, spec: ServiceEntrySpec, portNames: ReadonlySet<string>): void {
  const { resolution } = spec;
  const endpoints = spec.endpoints ?? [];
  if (endpoints.length === 0) {
    const i = spec.hosts.findIndex((h) => fqdnProblem(h) !== undefined);
    const host = spec.hosts[i];
    if (host !== undefined) {
      ctx.error(['hosts', i], `hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode ${resolution}, ${fqdnProblem(host) ?? ''}`);
    }
  }
  if (resolution === 'DNS_ROUND_ROBIN' && endpoints.length > 1) {
    ctx.error(['endpoints'], `there must only be 0 or 1 endpoint for resolution mode ${resolution}`);
  }
  endpoints.forEach((ep, i) => {
    const address = ep.address ?? '';
    if (!isIpAddress(address) && fqdnProblem(address)) {
      ctx.error(['endpoints', i, 'address'], `endpoint address "${address}" is not a valid FQDN or an IP address`);
    }
    for (const name of Object.keys(ep.ports ?? {})) {
      if (!portNames.has(name)) ctx.error(['endpoints', i, 'ports', name], `endpoint port ${ep.ports?.[name]} is not defined by the service entry`);
      const problem = portNameProblem(name);
      if (problem) ctx.error(['endpoints', i, 'ports', name], problem);
    }
  });
  if ((spec.addresses?.length ?? 0) > 0 && spec.hosts.length > 1 && (spec.ports ?? []).some((p) => isTcpProtocol(parseProtocol(p.protocol)))) {
    ctx.warning(['hosts'], 'service entry can not have more than one host specified simultaneously with address and tcp port');
  }
}
