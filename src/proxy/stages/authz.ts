/**
 * AuthorizationPolicy evaluation (Envoy's RBAC filters as Istio configures them, ISTIO-SEMANTICS
 * §9): a pure function from the chain's policies and what is known about one request (or one TCP
 * connection) to a decision. Istio's order:
 *
 *   1. CUSTOM: a matching rule sends the request to the chain's ext_authz provider (the check
 *      itself is the authz step's); with no usable provider, as Istio does for a bad CUSTOM
 *      action, the policy denies what its rules match;
 *   2. DENY: any matching rule denies;
 *   3. ALLOW: when any ALLOW policy applies, a request must match one of their rules;
 *   4. AUDIT: never changes the decision, only names the policy for the log.
 *
 * Dry-run ALLOW and DENY policies (`istio.io/dry-run`) are Envoy's shadow rules: evaluated on
 * their own next to the enforced ones, reported in `shadow`, never deciding anything.
 *
 * Within a rule `from`, `to` and `when` are ANDed; the entries of `from` (and of `to`) ORed; the
 * fields of one entry ANDed; the values of one field ORed; `notX` holds when none match.
 */
import type { AuthorizationCondition, AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource } from '../../proxy-config/index.js';
import { claimAt } from './route-match.js';
import {
  addressInBlocks, claimMatches, headerMatches, hostMatches, namespaceMatches, pathMatchesAny, peerIdentity, requestPrincipalMatches,
  serviceAccountMatches, stringMatches, trustDomainMatches, type PeerIdentity,
} from './authz-values.js';

/** What a policy can look at. `http` is absent on a TCP connection. */
export interface AuthzInput {
  /** The mTLS peer's principal (`cluster.local/ns/default/sa/sleep`); undefined on plaintext. */
  principal: string | undefined;
  /** The connection's peer address (`source.ip`, `ipBlocks`). */
  sourceIp: string;
  /** The original client (`remote.ip`, `remoteIpBlocks`). */
  remoteIp: string;
  destinationIp: string;
  destinationPort: number;
  sni: string | undefined;
  http?: AuthzHttpInput;
}

export interface AuthzHttpInput {
  method: string;
  /** After normalization, without the query. */
  path: string;
  authority: string;
  header(name: string): string | undefined;
  /** The validated JWT's payload, when jwt-authn accepted one. */
  claims: Record<string, unknown> | undefined;
}

/** One shadow engine's verdict: Envoy's `istio_dry_run_<action>_shadow_<result>`. */
export interface ShadowResult {
  action: 'allow' | 'deny';
  result: 'allowed' | 'denied';
  /** The rule that decided (`ns[x]-policy[y]-rule[0]`); '' when none matched. */
  policy: string;
}

export type AuthzDecision =
  | { allowed: true; audited: string | undefined; shadow?: ShadowResult[] }
  /** `policy`: what Envoy's code details name (`ns[x]-policy[y]-rule[0]`, or `none` when no ALLOW matched). */
  | { allowed: false; policy: string; shadow?: ShadowResult[] };

/** What the CUSTOM policies say: nothing matched, deny (bad provider), or ask the provider. */
export type CustomVerdict = { kind: 'none' } | { kind: 'deny'; policy: string } | { kind: 'check'; policy: string };

const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';
const AUD = ['aud'];
const AZP = ['azp'];
const NO_CUSTOM: CustomVerdict = { kind: 'none' };

/** The whole decision, CUSTOM policies included; for chains with no provider to call (TCP, or none configured). */
export function authorize(policies: readonly AuthorizationPolicy[], input: AuthzInput): AuthzDecision {
  const custom = authorizeCustom(policies, input, false);
  if (custom.kind !== 'none') return { allowed: false, policy: custom.policy };
  return authorizeRbac(policies, input);
}

/**
 * The CUSTOM step: the first CUSTOM policy with a matching rule decides. `canCall`: the chain has
 * a provider to ask; a policy whose provider could not be resolved denies regardless.
 */
export function authorizeCustom(policies: readonly AuthorizationPolicy[], input: AuthzInput, canCall: boolean): CustomVerdict {
  let ctx: Context | undefined;
  for (const p of policies) {
    if (p.action !== 'CUSTOM') continue;
    ctx ??= new Context(input);
    const rule = matchingRule(p, ctx);
    if (!rule) continue;
    const name = `istio-ext-authz-${p.provider ? `${p.provider}-` : ''}${p.name}-rule[${rule.index}]`;
    if (canCall && p.providerError === undefined) return { kind: 'check', policy: name };
    return { kind: 'deny', policy: `${name}${BAD_CUSTOM_SUFFIX}` };
  }
  return NO_CUSTOM;
}

/** DENY, ALLOW and AUDIT (Envoy's two RBAC filters and the audit one), with their shadow rules. */
export function authorizeRbac(policies: readonly AuthorizationPolicy[], input: AuthzInput): AuthzDecision {
  const ctx = new Context(input);
  let shadow: ShadowResult[] | undefined;
  // The DENY filter: its shadow engine runs first, then the enforced rules.
  const shadowDeny = shadowResult(policies, 'DENY', ctx);
  if (shadowDeny) shadow = [shadowDeny];
  for (const p of policies) {
    if (p.action !== 'DENY' || p.dryRun) continue;
    const rule = matchingRule(p, ctx);
    if (rule) return { allowed: false, policy: `${p.name}-rule[${rule.index}]`, ...(shadow ? { shadow } : {}) };
  }
  // The ALLOW filter, reached only when nothing was denied.
  const shadowAllow = shadowResult(policies, 'ALLOW', ctx);
  if (shadowAllow) (shadow ??= []).push(shadowAllow);
  let allowPolicies = false;
  let allowed = false;
  for (const p of policies) {
    if (p.action !== 'ALLOW' || p.dryRun) continue;
    allowPolicies = true;
    if (matchingRule(p, ctx)) {
      allowed = true;
      break;
    }
  }
  if (allowPolicies && !allowed) return { allowed: false, policy: 'none', ...(shadow ? { shadow } : {}) };
  let audited: string | undefined;
  for (const p of policies) {
    if (p.action !== 'AUDIT') continue;
    const rule = matchingRule(p, ctx);
    if (rule) {
      audited = `${p.name}-rule[${rule.index}]`;
      break;
    }
  }
  return { allowed: true, audited, ...(shadow ? { shadow } : {}) };
}

/** The shadow engine of one action over its dry-run policies; undefined when it has none. */
function shadowResult(policies: readonly AuthorizationPolicy[], action: 'ALLOW' | 'DENY', ctx: Context): ShadowResult | undefined {
  let any = false;
  for (const p of policies) {
    if (p.action !== action || !p.dryRun) continue;
    any = true;
    const rule = matchingRule(p, ctx);
    if (rule) return { action: action === 'ALLOW' ? 'allow' : 'deny', result: action === 'ALLOW' ? 'allowed' : 'denied', policy: `${p.name}-rule[${rule.index}]` };
  }
  if (!any) return undefined;
  return { action: action === 'ALLOW' ? 'allow' : 'deny', result: action === 'ALLOW' ? 'denied' : 'allowed', policy: '' };
}

/** The input plus what is derived from it once per evaluation (the peer's identity parts, JWT iss/sub). */
class Context {
  readonly input: AuthzInput;
  readonly peer: PeerIdentity | undefined;
  readonly iss: string | undefined;
  readonly sub: string | undefined;

  constructor(input: AuthzInput) {
    this.input = input;
    this.peer = peerIdentity(input.principal);
    const claims = input.http?.claims;
    const iss = claimAt(claims, ['iss']);
    const sub = claimAt(claims, ['sub']);
    this.iss = typeof iss === 'string' ? iss : undefined;
    this.sub = typeof sub === 'string' ? sub : undefined;
  }
}

function matchingRule(p: AuthorizationPolicy, ctx: Context): AuthorizationRule | undefined {
  for (const rule of p.rules) {
    if (ruleMatches(rule, ctx)) return rule;
  }
  return undefined;
}

function ruleMatches(rule: AuthorizationRule, ctx: Context): boolean {
  if (rule.from.length > 0 && !rule.from.some((s) => sourceMatches(s, ctx))) return false;
  if (rule.to.length > 0 && !rule.to.some((o) => operationMatches(o, ctx))) return false;
  return rule.when.every((c) => conditionMatches(c, ctx));
}

/** `values` (when given) must match one, `notValues` (when given) none; `test` sees one value. */
function field(values: readonly string[] | undefined, notValues: readonly string[] | undefined, test: (v: string) => boolean): boolean {
  if (values !== undefined && !values.some(test)) return false;
  return notValues === undefined || !notValues.some(test);
}

function sourceMatches(s: AuthorizationSource, ctx: Context): boolean {
  const { input, peer } = ctx;
  return field(s.principals, s.notPrincipals, (v) => stringMatches(v, peer?.principal))
    && field(s.requestPrincipals, s.notRequestPrincipals, (v) => requestPrincipalMatches(v, ctx.iss, ctx.sub))
    && field(s.namespaces, s.notNamespaces, (v) => namespaceMatches(v, peer))
    && field(s.serviceAccounts, s.notServiceAccounts, (v) => serviceAccountMatches(v, peer))
    && field(s.trustDomains, s.notTrustDomains, (v) => trustDomainMatches(v, peer))
    && blocksMatch(s.ipBlocks, s.notIpBlocks, input.sourceIp)
    && blocksMatch(s.remoteIpBlocks, s.notRemoteIpBlocks, input.remoteIp);
}

function blocksMatch(blocks: readonly string[] | undefined, notBlocks: readonly string[] | undefined, address: string): boolean {
  if (blocks !== undefined && !addressInBlocks(blocks, address)) return false;
  return notBlocks === undefined || !addressInBlocks(notBlocks, address);
}

function operationMatches(o: AuthorizationOperation, ctx: Context): boolean {
  const { input } = ctx;
  const http = input.http;
  if (o.ports !== undefined && !o.ports.includes(input.destinationPort)) return false;
  if (o.notPorts !== undefined && o.notPorts.includes(input.destinationPort)) return false;
  if (o.hosts === undefined && o.notHosts === undefined && o.methods === undefined && o.notMethods === undefined && o.paths === undefined && o.notPaths === undefined) return true;
  // HTTP-only fields reach a TCP chain only in a config the compiler did not make: they match nothing.
  if (!http) return false;
  if (!field(o.hosts, o.notHosts, (v) => hostMatches(v, http.authority))) return false;
  if (!field(o.methods, o.notMethods, (v) => headerMatches(v, http.method))) return false;
  if (o.paths !== undefined && !pathMatchesAny(o.paths, http.path)) return false;
  return o.notPaths === undefined || !pathMatchesAny(o.notPaths, http.path);
}

function conditionMatches(c: AuthorizationCondition, ctx: Context): boolean {
  const { input } = ctx;
  // Address conditions match as a block list built once per value list (cached on the config array).
  if (c.key === 'source.ip') return blocksMatch(c.values, c.notValues, input.sourceIp);
  if (c.key === 'remote.ip') return blocksMatch(c.values, c.notValues, input.remoteIp);
  if (c.key === 'destination.ip') return blocksMatch(c.values, c.notValues, input.destinationIp);
  return field(c.values, c.notValues, conditionTest(c, ctx));
}

function conditionTest(c: AuthorizationCondition, ctx: Context): (v: string) => boolean {
  const { input, peer } = ctx;
  const http = input.http;
  const name = c.names?.[0];
  switch (c.key) {
    case 'destination.port': return (v) => Number(v) === input.destinationPort;
    case 'connection.sni': return (v) => stringMatches(v, input.sni);
    case 'source.principal': return (v) => stringMatches(v, peer?.principal);
    case 'source.namespace': return (v) => namespaceMatches(v, peer);
    case 'source.serviceAccount': return (v) => serviceAccountMatches(v, peer);
    case 'source.trustDomain': return (v) => trustDomainMatches(v, peer);
    case 'request.auth.principal': return (v) => requestPrincipalMatches(v, ctx.iss, ctx.sub);
    case 'request.auth.audiences': return (v) => claimMatches(v, claimAt(http?.claims, AUD));
    case 'request.auth.presenter': return (v) => claimMatches(v, claimAt(http?.claims, AZP));
    case 'request.auth.claims': return (v) => claimMatches(v, claimAt(http?.claims, c.names ?? []));
    case 'request.headers': return (v) => name !== undefined && headerMatches(v, http?.header(name));
    // Envoy dynamic metadata (experimental.envoy.filters.*) and unknown keys: nothing to match.
    default: return () => false;
  }
}
