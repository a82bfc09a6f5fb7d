/**
 * The authz step: the chain's AuthorizationPolicies (its `authz` filter) decide on the request
 * after path normalization and JWT authentication, before routing, faults or any upstream work.
 * In Istio's filter order: CUSTOM first (a matching rule asks the ext_authz provider, the only
 * asynchronous part: ext-authz/step.ts), then DENY and ALLOW (Envoy's RBAC: a denial is 403
 * `RBAC: access denied` with the matched policy in the code details), with dry-run policies
 * counted and logged as Envoy's shadow rules.
 */
import { authorizeCustom, authorizeRbac, type AuthzInput } from '../stages/authz.js';
import { authzInput } from '../listeners/authz-input.js';
import { AuthzDeniedError } from '../errors.js';
import { extAuthzCheck } from '../ext-authz/step.js';
import type { Exchange } from './exchange.js';

export function authzStep(ex: Exchange): void | Promise<void> {
  return authzFrom(ex, 0);
}

function authzFrom(ex: Exchange, start: number): void | Promise<void> {
  const filters = ex.hcm.filters;
  for (let i = start; i < filters.length; i++) {
    const filter = filters[i]!;
    if (filter.kind !== 'authz') continue;
    // The exchange is the request side of the input: method, normalized path, authority, header(), claims.
    const input = authzInput(ex.conn, ex.port, ex, ex.header('x-forwarded-for'));
    const custom = authorizeCustom(filter.policies, input, filter.extAuthz !== undefined);
    if (custom.kind === 'deny') {
      ex.services.stats.inc('rbac.denied');
      throw new AuthzDeniedError(custom.policy);
    }
    if (custom.kind === 'check' && filter.extAuthz) {
      const service = filter.extAuthz;
      return extAuthzCheck(ex, service).then(() => {
        rbac(ex, filter.policies, authzInput(ex.conn, ex.port, ex, ex.header('x-forwarded-for')));
        return authzFrom(ex, i + 1);
      });
    }
    rbac(ex, filter.policies, input);
  }
}

function rbac(ex: Exchange, policies: Parameters<typeof authorizeRbac>[0], input: AuthzInput): void {
  const decision = authorizeRbac(policies, input);
  const stats = ex.services.stats;
  if (decision.shadow) {
    for (const s of decision.shadow) {
      stats.inc(`rbac.istio_dry_run_${s.action}_shadow_${s.result}`);
      // Envoy's rbac debug line, which Istio's dry-run task reads.
      if (s.policy !== '') ex.services.log.debug(`shadow ${s.result}, matched policy ${s.policy}`, { path: ex.path });
      else ex.services.log.debug(`shadow ${s.result}, no matched policy`, { path: ex.path });
    }
  }
  if (!decision.allowed) {
    stats.inc('rbac.denied');
    throw new AuthzDeniedError(decision.policy);
  }
  stats.inc(decision.audited ? 'rbac.audited' : 'rbac.allowed');
}
