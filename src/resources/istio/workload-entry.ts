/**
 * WorkloadEntry (networking/v1alpha3/workload_entry.proto): a non-Kubernetes workload (a VM, a
 * process) with its address, ports and labels. The same message is a ServiceEntry endpoint, so the
 * schema and Istio's validateWorkloadEntry are exported for service-entry.ts.
 */
import type { FieldPath } from '../../lib/field-path.js';
import { defineKind, type ValidationContext } from '../resource.js';
import { z, labels, uint32, portNumber } from '../schema.js';
import { UNIX_ADDRESS_PREFIX, fqdnProblem, isIpAddress, portNameProblem, unixAddressProblem } from './networking-checks.js';

export const workloadEntrySpec = z.strictObject({
  /** IP address, DNS name (DNS resolution) or `unix:///path` / `unix://@abstract` socket. */
  address: z.string().max(256).optional(),
  /** Port name -> number, overriding the service port of the same name. */
  ports: z.record(z.string(), portNumber).optional(),
  labels: labels.optional(),
  network: z.string().max(2048).optional(),
  /** `region/zone/subzone`. */
  locality: z.string().max(2048).optional(),
  weight: uint32.optional(),
  serviceAccount: z.string().max(253).optional(),
});
export type WorkloadEntrySpec = z.output<typeof workloadEntrySpec>;

export interface WorkloadEntryCheckOptions {
  /** The service's port names when the entry is a ServiceEntry endpoint; each entry port must name one. */
  servicePorts?: ReadonlySet<string>;
  /** A standalone WorkloadEntry may name a host; a STATIC ServiceEntry endpoint must be an IP. */
  allowFqdn: boolean;
}

/** Istio's validateWorkloadEntry, for the entry found at `path`. */
export function checkWorkloadEntry(ctx: ValidationContext, path: FieldPath, we: WorkloadEntrySpec, opts: WorkloadEntryCheckOptions): void {
  const addr = we.address ?? '';
  if (addr === '') {
    if (!we.network) {
      ctx.error(path, 'address is required');
      return;
    }
    ctx.warning(path, `address is unset with network "${we.network}"`);
  }
  const ports = Object.entries(we.ports ?? {});
  const unix = addr.startsWith(UNIX_ADDRESS_PREFIX);
  if (unix) {
    const problem = unixAddressProblem(addr.slice(UNIX_ADDRESS_PREFIX.length));
    if (problem) ctx.error([...path, 'address'], problem);
    if (ports.length > 0) ctx.error([...path, 'ports'], `unix endpoint ${addr} must not include ports`);
  } else if (addr !== '' && !isIpAddress(addr)) {
    if (!opts.allowFqdn) ctx.error([...path, 'address'], `endpoint address "${addr}" is not a valid IP address`);
    else if (fqdnProblem(addr)) ctx.error([...path, 'address'], `endpoint address "${addr}" is not a valid FQDN or an IP address`);
  }
  for (const [name, port] of ports) {
    if (opts.servicePorts && !opts.servicePorts.has(name)) ctx.error([...path, 'ports', name], `endpoint port ${port} is not defined by the service entry`);
    const nameProblem = portNameProblem(name);
    if (nameProblem) ctx.error([...path, 'ports', name], nameProblem);
  }
  if (unix && opts.servicePorts && opts.servicePorts.size !== 1) ctx.error(path, 'exactly 1 service port required for unix endpoints');
}

export const workloadEntryKind = defineKind({
  kind: 'WorkloadEntry',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: workloadEntrySpec,
  emptySpec: {},
  validate(spec, ctx) {
    // Without a ServiceEntry there are no service ports to check the entry's port names against.
    checkWorkloadEntry(ctx, [], spec, { allowFqdn: true });
  },
});
