/**
 * Host checks only VirtualService and Gateway need (gateway-bound SNI names, host overlap, gateway
 * names), ported from Istio's pkg/config/validation/agent/validation.go and validation.go; the
 * checks every networking kind shares live in networking-checks.ts.
 * Each check returns a problem message (or undefined); callers attach the field path.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { dnsPreconditionProblem, fqdnProblem, isIstioDnsLabel, wildcardDomainProblem } from './networking-checks.js';

const OUTBOUND_SNI_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';

/**
 * Istio's ValidateWildcardDomainForVirtualServiceBoundToGateway: as wildcardDomainProblem, but an
 * SNI host may also be the name AUTO_PASSTHROUGH gateways route on (`outbound_.80_._.svc.ns.mesh`).
 */
export function gatewayBoundDomainProblem(sni: boolean, domain: string): string | undefined {
  const pre = dnsPreconditionProblem(domain);
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
    if (!isIstioDnsLabel(ns)) ctx.error(at, `invalid value for namespace: "${ns}"`);
    if (!isIstioDnsLabel(gw)) ctx.error(at, `invalid value for gateway name: "${gw}"`);
  });
}
