/**
 * Istio's small validation helpers shared by the networking kinds (VirtualService, Gateway,
 * DestinationRule, ServiceEntry, WorkloadEntry, Sidecar): host names, IP addresses, ports, protocols and `exportTo`. Each returns
 * Istio's own message (pkg/config/validation/agent/validation.go, validation.go) or undefined, so
 * the kinds can attach it to the field it concerns.
 */
import { isIP } from 'node:net';
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { z, duration } from '../schema.js';

export const UNIX_ADDRESS_PREFIX = 'unix://';

// Istio's DNS-1123 label accepts upper case (pkg/config/labels), unlike Kubernetes' object names.
const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

export function isIstioDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

export function dnsPreconditionProblem(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

/** `shown` is the name to quote: the whole host when only its tail is being checked. */
function dnsLabelsProblem(domain: string, shown = domain): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1] ?? '';
  if (/^[-+]?\d+$/.test(top)) return `domain name "${shown}" invalid (top level domain "${top}" cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? '';
    // A trailing dot (`istio.io.`) is an unambiguous absolute name.
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isIstioDnsLabel(label)) return `domain name "${shown}" invalid (label "${label}" invalid)`;
  }
  return undefined;
}

/** Istio's ValidateFQDN. */
export function fqdnProblem(fqdn: string): string | undefined {
  return dnsPreconditionProblem(fqdn) ?? dnsLabelsProblem(fqdn);
}

/** Istio's ValidateWildcardDomain: an FQDN whose first label may be `*`, `*foo` or `*-foo`. */
export function wildcardDomainProblem(domain: string): string | undefined {
  const pre = dnsPreconditionProblem(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) return `domain name "${domain}" invalid (label "${first}" invalid)`;
  return dot < 0 ? undefined : dnsLabelsProblem(domain.slice(dot + 1), domain);
}

/** Istio's ValidatePartialWildCard: `*` alone or a `*.` prefix only. */
export function partialWildcardProblem(host: string): string | undefined {
  if (host.includes('*') && host.length !== 1 && !host.startsWith('*.')) return `partial wildcard "${host}" not allowed`;
  return undefined;
}

export function isWildcarded(host: string): boolean {
  return host.startsWith('*');
}

/** Go's netip.ParseAddr: dotted IPv4 without leading zeros, or IPv6 with an optional zone. */
export function isIpAddress(addr: string): boolean {
  const family = isIP(addr);
  return family === 6 || (family === 4 && !/(^|\.)0\d/.test(addr));
}

export function ipAddressProblem(addr: string): string | undefined {
  return isIpAddress(addr) ? undefined : `${addr} is not a valid IP`;
}

/** Istio's ValidateIPSubnet: an IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
export function ipSubnetProblem(subnet: string): string | undefined {
  if ((subnet.match(/\//g) ?? []).length === 1) {
    const [addr = '', bits = ''] = subnet.split('/');
    const family = addr.includes('%') ? 0 : isIP(addr);
    const max = family === 4 ? 32 : 128;
    const okBits = /^(0|[1-9]\d{0,2})$/.test(bits) && Number(bits) <= max;
    return family !== 0 && okBits ? undefined : `${subnet} is not a valid CIDR block`;
  }
  return ipAddressProblem(subnet);
}

/** Istio's ValidateUnixAddress, on the path after `unix://`. */
export function unixAddressProblem(addr: string): string | undefined {
  if (addr.length === 0) return 'unix address must not be empty';
  if (addr.startsWith('@')) return undefined;
  if (!addr.startsWith('/') || addr.endsWith('/')) return `${addr} is not an absolute path to a file`;
  return undefined;
}

/** Istio's ValidatePort. */
export function portProblem(port: number): string | undefined {
  return port >= 1 && port <= 65535 ? undefined : `port number ${port} must be in the range 1..65535`;
}

/** Istio's ValidatePortName. */
export function portNameProblem(name: string): string | undefined {
  return isIstioDnsLabel(name) ? undefined : `invalid port name: ${name}`;
}

/** Protocols Istio knows (pkg/config/protocol), matched case-insensitively. */
export type Protocol = 'GRPC' | 'GRPC-Web' | 'HTTP' | 'HTTP_PROXY' | 'HTTP2' | 'HTTPS' | 'TCP' | 'TLS' | 'UDP' | 'Mongo' | 'Redis' | 'MySQL';

const PROTOCOLS: readonly Protocol[] = ['GRPC', 'GRPC-Web', 'HTTP', 'HTTP_PROXY', 'HTTP2', 'HTTPS', 'TCP', 'TLS', 'UDP', 'Mongo', 'Redis', 'MySQL'];
const BY_LOWER = new Map(PROTOCOLS.map((p) => [p.toLowerCase(), p]));

/** Istio's protocol.Parse; undefined for an unknown (or empty, i.e. sniffed) protocol. */
export function parseProtocol(text: string | undefined): Protocol | undefined {
  return text === undefined ? undefined : BY_LOWER.get(text.toLowerCase());
}

export function isHttpProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

export function isTlsProtocol(p: Protocol | undefined): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

export function isTcpProtocol(p: Protocol | undefined): boolean {
  return p === 'TCP' || p === 'HTTPS' || p === 'TLS' || p === 'Mongo' || p === 'Redis' || p === 'MySQL';
}

/** Istio's ValidateProtocol: empty means "sniff", anything else must be known. */
export function protocolProblem(text: string | undefined): string | undefined {
  if (text === undefined || text === '' || parseProtocol(text)) return undefined;
  return `unsupported protocol: ${text}`;
}

/**
 * The `WorkloadSelector` of networking/v1alpha3 (ServiceEntry, Sidecar): a plain `labels` map, not
 * the `matchLabels` of type/v1beta1. Istio rejects empty keys and `*` anywhere in it.
 */
export const networkingWorkloadSelector = z.strictObject({ labels: z.record(z.string(), z.string()).optional() });
export type NetworkingWorkloadSelector = z.output<typeof networkingWorkloadSelector>;

/**
 * Istio's ValidateAlphaWorkloadSelector. Returns whether there were errors; `kind` prefixes the
 * warning for a selector without labels as Istio does ("sidecar", "service entry").
 */
export function checkNetworkingSelector(ctx: ValidationContext, selector: NetworkingWorkloadSelector | undefined, kind: string): boolean {
  if (!selector) return false;
  let failed = false;
  for (const [key, value] of Object.entries(selector.labels ?? {})) {
    if (key === '') {
      ctx.error(['workloadSelector', 'labels', key], `empty key is not supported in selector: "=${value}"`);
      failed = true;
    }
    if (key.includes('*') || value.includes('*')) {
      ctx.error(['workloadSelector', 'labels', key], `wildcard is not supported in selector: "${key}=${value}"`);
      failed = true;
    }
  }
  if (!failed && Object.keys(selector.labels ?? {}).length === 0) {
    ctx.warning(['workloadSelector'], `${kind}: workload selector specified without labels, will be applied to all services in namespace`);
  }
  return failed;
}

/**
 * Istio's validateExportTo: entries are `.`, `*`, a namespace name (or `~` for a ServiceEntry),
 * without duplicates (`.` counts as the resource's own namespace), and `*`/`~` stand alone.
 */
export function checkExportTo(
  ctx: ValidationContext,
  path: FieldPath,
  exportTo: readonly string[] | undefined,
  opts: { serviceEntry?: boolean; destinationRuleWithSelector?: boolean } = {},
): void {
  if (!exportTo || exportTo.length === 0) return;
  const namespace = ctx.namespace;
  const seen = new Set<string>();
  exportTo.forEach((entry, i) => {
    const key = entry === '.' ? namespace : entry;
    if (seen.has(key)) {
      ctx.error([...path, i], key !== entry
        ? `duplicate entries in exportTo: . and current namespace ${namespace}`
        : `duplicate entries in exportTo for entry ${entry}`);
      return;
    }
    if (opts.serviceEntry && entry === '~') {
      seen.add(key);
      return;
    }
    if (key === '~') ctx.error([...path, i], 'exportTo ~ (none) is not allowed for Istio configuration objects');
    else if (key !== '*' && key !== '.' && !isIstioDnsLabel(key)) ctx.error([...path, i], 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry');
    else seen.add(key);
  });
  if (opts.destinationRuleWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) ctx.error(path, 'destination rule with workload selector cannot have exportTo beyond current namespace');
    else if (seen.size > 1) ctx.error(path, 'destination rule with workload selector cannot have multiple entries in exportTo');
  }
  if (seen.has('*') && exportTo.length > 1) ctx.error(path, 'cannot have both public (*) and non-public exportTo values for a resource');
  if (seen.has('~') && exportTo.length > 1) ctx.error(path, 'cannot export service entry to no one (~) and someone');
}

/** Go's net.SplitHostPort, enough for `host:port`, `[v6]:port` and `:port`. */
export function splitHostPort(text: string): { host: string; port: string } | { error: string } {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return { error: `address ${text}: missing ']' in address` };
    if (text[end + 1] !== ':') return { error: `address ${text}: missing port in address` };
    return { host: text.slice(1, end), port: text.slice(end + 2) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { error: `address ${text}: missing port in address` };
  const host = text.slice(0, colon);
  if (host.includes(':')) return { error: `address ${text}: too many colons in address` };
  return { host, port: text.slice(colon + 1) };
}

/**
 * A refinement for a protobuf oneof inside a larger message: at most one of `fields` may be set.
 * Worded and placed like schema.ts's oneOf, for messages that hold more than one oneof.
 */
export function onlyOneOf(fields: readonly string[], message?: string) {
  return (value: object, ctx: z.core.$RefinementCtx<object>): void => {
    const set = fields.filter((f) => (value as Record<string, unknown>)[f] !== undefined);
    if (set.length > 1) {
      ctx.addIssue({ code: 'custom', path: [set[1] as string], message: message ?? `only one of ${fields.join(', ')} may be set (found ${set.join(' and ')})` });
    }
  };
}

/**
 * A Duration that Istio checks with ValidateDuration: at least 1ms (schema.ts's duration) and whole
 * milliseconds, since Envoy's timers only take millisecond precision.
 */
export function msDuration(opts: { min?: number } = {}) {
  return duration(opts).superRefine((ms, ctx) => {
    if (!Number.isInteger(ms)) ctx.addIssue({ code: 'custom', message: 'only durations to ms precision are supported' });
  });
}
