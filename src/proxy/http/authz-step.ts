/**
 * The authz step: the chain's AuthorizationPolicies (its `authz` filter) decide on the request
 * after path normalization and JWT authentication, before routing, faults or any upstream work.
 * A denial is Envoy RBAC's 403 `RBAC: access denied` with the matched policy in the code details.
 */
import { authorize } from '../stages/authz.js';
import { authzInput } from '../listeners/authz-input.js';
import { AuthzDeniedError } from '../errors.js';
import type { Exchange } from './exchange.js';

export function authzStep(ex: Exchange): void {
  const filters = ex.hcm.filters;
  for (let i = 0; i < filters.length; i++) {
    const filter = filters[i]!;
    if (filter.kind !== 'authz') continue;
    // The exchange is the request side of the input: method, normalized path, authority, header(), claims.
    const decision = authorize(filter.policies, authzInput(ex.conn, ex.port, ex, ex.header('x-forwarded-for')));
    if (!decision.allowed) {
      ex.services.stats.inc('rbac.denied');
      throw new AuthzDeniedError(decision.policy);
    }
    ex.services.stats.inc(decision.audited ? 'rbac.audited' : 'rbac.allowed');
  }
}
