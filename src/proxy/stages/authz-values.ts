/**
 * The value matchers of AuthorizationPolicy, as Istio generates them for Envoy's RBAC filter
 * (pilot/pkg/security/authz/matcher and model/generator.go): Istio's string forms, hosts,
 * header presence, path templates, CIDR blocks, peer principals and JWT request principals.
 * Compiled forms (templates, address blocks) are cached on the config arrays they come from.
 */
import { BlockList, isIP } from 'node:net';

/**
 * Istio's StringMatcher: `abc` exact, `abc*` prefix, `*abc` suffix, `*` any non-empty value
 * (regex `.+`). An absent value never matches.
 */
export function stringMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return value !== '';
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return value === pattern;
}

/** Istio's HeaderMatcher (methods, `request.headers`): as stringMatches, but `*` only asks that the header be present. */
export function headerMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern === '*' ? true : stringMatches(pattern, value);
}

/** Istio's HostMatcher on `:authority`: case-insensitive, port included, `*` presence. */
export function hostMatches(pattern: string, authority: string): boolean {
  if (pattern === '*') return true;
  return stringMatches(pattern.toLowerCase(), authority.toLowerCase());
}

// ---------------------------------------------------------------- paths

const SEGMENT = "[a-zA-Z0-9\\-._~%!$&'()+,;:@=]";
const templates = new WeakMap<readonly string[], (RegExp | null)[]>();

/** `{*}` matches one path segment, `{**}` the rest of the path (Envoy's uri_template). */
function templateRegex(pattern: string): RegExp | null {
  if (!pattern.includes('{*}') && !pattern.includes('{**}')) return null;
  const source = pattern
    .split('/')
    .map((seg) => (seg === '{*}' ? `${SEGMENT}+` : seg === '{**}' ? `(?:${SEGMENT}|/)*` : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** Does the (normalized, query-free) path match any of `patterns`. */
export function pathMatchesAny(patterns: readonly string[], path: string): boolean {
  let compiled = templates.get(patterns);
  if (compiled === undefined) {
    compiled = patterns.map(templateRegex);
    templates.set(patterns, compiled);
  }
  for (let i = 0; i < patterns.length; i++) {
    const re = compiled[i];
    if (re ? re.test(path) : stringMatches(patterns[i]!, path)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- addresses

const blocks = new WeakMap<readonly string[], BlockList>();

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Is the address inside any of the addresses or CIDR ranges. */
export function addressInBlocks(cidrs: readonly string[], address: string): boolean {
  let list = blocks.get(cidrs);
  if (list === undefined) {
    list = new BlockList();
    for (const c of cidrs) addBlock(list, c);
    blocks.set(cidrs, list);
  }
  const plain = plainAddress(address);
  const family = isIP(plain);
  if (family === 0) return false;
  return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

function addBlock(list: BlockList, cidr: string): void {
  const slash = cidr.indexOf('/');
  const addr = slash < 0 ? cidr : cidr.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return; // validation rejects these; a bad block matches nothing
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) list.addAddress(addr, type);
  else {
    const bits = Number(cidr.slice(slash + 1));
    if (Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128)) list.addSubnet(addr, bits, type);
  }
}

// ---------------------------------------------------------------- peer identity

export interface PeerIdentity {
  principal: string;
  trustDomain: string;
  namespace: string | undefined;
  serviceAccount: string | undefined;
}

/** `<td>/ns/<ns>/sa/<sa>` split into its parts (a principal of another shape keeps only its trust domain). */
export function peerIdentity(principal: string | undefined): PeerIdentity | undefined {
  if (principal === undefined || principal === '') return undefined;
  const parts = principal.split('/');
  const ns = parts.indexOf('ns', 1);
  const sa = parts.indexOf('sa', ns + 2);
  return {
    principal,
    trustDomain: parts[0] ?? '',
    namespace: ns > 0 ? parts[ns + 1] : undefined,
    serviceAccount: ns > 0 && sa > 0 ? parts[sa + 1] : undefined,
  };
}

/** Istio matches namespaces with a regex on the SPIFFE ID (`ns/<v>/`, `*` as `.*`): exact, prefix, suffix or any. */
export function namespaceMatches(pattern: string, peer: PeerIdentity | undefined): boolean {
  const ns = peer?.namespace;
  if (ns === undefined) return false;
  if (pattern === '*') return true;
  return stringMatches(pattern, ns);
}

/** `<ns>/<sa>` (the compiler fills in the namespace), no wildcards. */
export function serviceAccountMatches(value: string, peer: PeerIdentity | undefined): boolean {
  if (peer?.namespace === undefined || peer.serviceAccount === undefined) return false;
  return value === `${peer.namespace}/${peer.serviceAccount}`;
}

/** `*` any SPIFFE peer; otherwise exact, or one wildcard at either end, within the trust domain. */
export function trustDomainMatches(pattern: string, peer: PeerIdentity | undefined): boolean {
  if (peer === undefined) return false;
  if (pattern === '*') return true;
  return stringMatches(pattern, peer.trustDomain);
}

// ---------------------------------------------------------------- request principal

/**
 * Istio's requestPrincipal matcher: the value splits at its last `/` into issuer and subject, each
 * matched against the validated JWT's `iss` and `sub` claims, with `*` forms on either side.
 */
export function requestPrincipalMatches(value: string, iss: string | undefined, sub: string | undefined): boolean {
  if (iss === undefined || sub === undefined) return false;
  const any = (v: string) => v !== '';
  const idx = value.lastIndexOf('/');
  const found = idx >= 0;
  const vIss = found ? value.slice(0, idx) : value;
  const vSub = found ? value.slice(idx + 1) : '';
  if (value === '*') return any(iss) && any(sub);
  if (value.startsWith('*')) {
    if (!found) return any(iss) && sub.endsWith(value.slice(1));
    return (vIss === '*' ? any(iss) : iss.endsWith(vIss.slice(1))) && sub === vSub;
  }
  if (value.endsWith('*')) {
    if (!found) return iss.startsWith(value.slice(0, -1)) && any(sub);
    return iss === vIss && (vSub === '*' ? any(sub) : sub.startsWith(vSub.slice(0, -1)));
  }
  return iss === vIss && sub === vSub;
}

/** A JWT claim against Istio's list-or-string matcher: a string claim, or any string in a list claim. */
export function claimMatches(pattern: string, claim: unknown): boolean {
  if (typeof claim === 'string') return stringMatches(pattern, claim);
  if (Array.isArray(claim)) return claim.some((item) => typeof item === 'string' && stringMatches(pattern, item));
  return false;
}
