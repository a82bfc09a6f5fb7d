/**
 * An HTTP filter chain: HTTP connection manager with its route table and the request filters in
 * front of routing, in Istio's order: jwt-authn (RequestAuthentication), then authz
 * (AuthorizationPolicy). Only chains that serve a workload enforce its policies (sidecar inbound,
 * gateways); a sidecar's outbound chains pass `undefined` and get none, as in Istio.
 */
import type { AuthorizationPolicy, FilterChain, HttpFilter } from '../../proxy-config/index.js';
import { requestAuthnRules } from '../security/request-authn.js';
import { chainAuthorization, type PolicyTarget } from '../security/authz.js';

export type { PolicyTarget } from '../security/authz.js';

export function httpChain(name: string, routeConfig: string, statPrefix: string, target: PolicyTarget | undefined): FilterChain {
  return { name, match: {}, protocol: 'http', http: { routeConfig, filters: target ? httpFilters(target) : [], statPrefix } };
}

/** Filters appear only when a policy applies, so a workload without policies has none. */
function httpFilters(target: PolicyTarget): HttpFilter[] {
  const filters: HttpFilter[] = [];
  const rules = requestAuthnRules(target.snapshot, target.namespace, target.labels);
  if (rules.length > 0) filters.push({ kind: 'jwt-authn', rules });
  const { policies, extAuthz } = chainAuthorization(target, 'http');
  if (policies.length > 0) filters.push({ kind: 'authz', policies, ...(extAuthz ? { extAuthz } : {}) });
  return filters;
}

/** A TCP chain's authorization (the TCP-applicable fields), spread into its `tcp`; nothing without policies. */
export function tcpAuthz(target: PolicyTarget | undefined): { authz?: AuthorizationPolicy[] } {
  if (!target) return {};
  const { policies } = chainAuthorization(target, 'tcp');
  return policies.length > 0 ? { authz: policies } : {};
}
