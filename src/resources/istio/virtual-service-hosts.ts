/**
 * Host, gateway-name, address and exportTo checks, ported from Istio's
 * pkg/config/validation/agent/validation.go and validation.go so that VirtualService and Gateway
 * reject exactly what Istio's webhook rejects, with Istio's messages.
 * Each check returns a problem message (or undefined); callers attach the field path.
 */
import { isIP } from 'node:net';
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';

// Istio's labels.IsDNS1123Label accepts upper case (Kubernetes names do not; hosts and gateway
// names are compared as written).
const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

export function isIstioDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

function isWildcardDns1123Label(value: string): boolean {
  return value.length <= 63 && WILDCARD_LABEL.test(value);
}

function dns1123Preconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] ?? '';
  // Go's strconv.Atoi: an optional sign and decimal digits.
  if (/^[+-]?\d+$/.test(tld)) return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i] ?? '';
    // A trailing dot (`istio.io.`) is an unambiguous absolute name.
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isIstioDns1123Label(label)) return `domain name "${domain}" invalid (label "${label}" invalid)`;
  }
  return undefined;
}

/** Istio's ValidateFQDN: every label a DNS-1123 label; short names (no dots) pass. */
export function fqdnProblem(fqdn: string): string | undefined {
  return dns1123Preconditions(fqdn) ?? dns1123Labels(fqdn);
}

/** Istio's ValidateWildcardDomain: a DNS name whose first label may be `*`, `*foo` or `*-foo`. */
export function wildcardDomainProblem(domain: string): string | undefined {
  const pre = dns1123Preconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!isWildcardDns1123Label(first)) return `domain name "${domain}" invalid (label "${first}" invalid)`;
  return dot < 0 ? undefined : dns1123Labels(domain.slice(dot + 1));
}

const OUTBOUND_SNI_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';

/**
 * Istio's ValidateWildcardDomainForVirtualServiceBoundToGateway: as wildcardDomainProblem, but an
 * SNI host may also be the name AUTO_PASSTHROUGH gateways route on (`outbound_.80_._.svc.ns.mesh`).
 */
export function gatewayBoundDomainProblem(sni: boolean, domain: string): string | undefined {
  const pre = dns1123Preconditions(domain);
  if (pre) return pre;
  if (sni && domain.startsWith('outbound_')) {
    const parts = domain.split('_');
    if (parts.length < 4) return `domain name ${domain} invalid, should follow '${OUTBOUND_SNI_FORMAT}' format`;
    const port = trimDots(parts[1] ?? '');
    const hostname = trimDots(parts[3] ?? '');
    if (parts[0] !== 'outbound') return `domain name "${domain}" invalid (label "${parts[0]}" invalid)`;
    if (!/[0-9]/.test(port)) return `domain name "${domain}" invalid (label "${port}" invalid). should follow ${OUTBOUND_SNI_FORMAT} format`;
    if (!/[a-zA-Z]/.test(hostname)) return `domain name "${domain}" invalid (label "${hostname}" invalid). should follow ${OUTBOUND_SNI_FORMAT} format`;
    return undefined;
  }
  return wildcardDomainProblem(domain);
}

function trimDots(s: string): string {
  return s.replace(/^\.+|\.+$/g, '');
}

/** Go's netip.ParseAddr (IPv4 dotted quad without leading zeros, or IPv6 with an optional zone). */
export function isValidIp(addr: string): boolean {
  if (isIP(addr) === 4) return !/(^|\.)0\d/.test(addr);
  return isIP(addr) === 6;
}

/** Istio's ValidateIPSubnet: an address or a CIDR block. */
export function ipSubnetProblem(subnet: string): string | undefined {
  const parts = subnet.split('/');
  if (parts.length === 2) {
    const [addr = '', bits = ''] = parts;
    const family = isValidIp(addr) && !addr.includes('%') ? isIP(addr) : 0;
    const max = family === 4 ? 32 : 128;
    if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${subnet} is not a valid CIDR block`;
    return undefined;
  }
  return isValidIp(subnet) ? undefined : `${subnet} is not a valid IP`;
}

/** Istio's ValidatePort. */
export function portProblem(port: number): string | undefined {
  return port >= 1 && port <= 65535 ? undefined : `port number ${port} must be in the range 1..65535`;
}

/** Istio's host.Name.Matches: the two names (either may be wildcarded) overlap. */
export function hostsOverlap(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name `a` covers is covered by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw) return bw && a.length >= b.length && a.slice(1).endsWith(b.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/**
 * Istio's validateGatewayNames: `mesh`, a name in the rule's namespace, `ns/name`, or the legacy
 * `name.ns` (accepted with a warning).
 */
export function validateGatewayNames(names: readonly string[] | undefined, path: FieldPath, ctx: ValidationContext): void {
  (names ?? []).forEach((name, i) => {
    const at = [...path, i];
    const slash = name.indexOf('/');
    if (slash < 0) {
      if (name.includes('.')) {
        const parts = name.split('.');
        ctx.warning(at, `using legacy gatewayName format "${name}"; prefer the <namespace>/<name> format: "${parts[1]}/${parts[0]}"`);
      }
      const problem = fqdnProblem(name);
      if (problem) ctx.error(at, problem);
      return;
    }
    const ns = name.slice(0, slash);
    const gw = name.slice(slash + 1);
    if (ns === '' || gw === '') ctx.error(at, 'config namespace and gateway name cannot be empty');
    if (!isIstioDns1123Label(ns)) ctx.error(at, `invalid value for namespace: "${ns}"`);
    if (!isIstioDns1123Label(gw)) ctx.error(at, `invalid value for gateway name: "${gw}"`);
  });
}

/** Istio's validateExportTo for VirtualService and DestinationRule (no `~`). */
export function validateExportTo(namespace: string, exportTo: readonly string[] | undefined, path: FieldPath, ctx: ValidationContext): void {
  if (!exportTo || exportTo.length === 0) return;
  const seen = new Set<string>();
  exportTo.forEach((entry, i) => {
    const key = entry === '.' ? namespace : entry;
    if (seen.has(key)) {
      ctx.error([...path, i], key !== entry
        ? `duplicate entries in exportTo: . and current namespace ${namespace}`
        : `duplicate entries in exportTo for entry ${entry}`);
      return;
    }
    if (key === '~') ctx.error([...path, i], 'exportTo ~ (none) is not allowed for Istio configuration objects');
    else if (key !== '*' && key !== '.' && !isIstioDns1123Label(key)) ctx.error([...path, i], 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry');
    else seen.add(key);
  });
  if (seen.has('*') && exportTo.length > 1) ctx.error(path, 'cannot have both public (*) and non-public exportTo values for a resource');
}
