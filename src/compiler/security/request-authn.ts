/**
 * The JWT rules a workload enforces (ISTIO-SEMANTICS §8): every RequestAuthentication that
 * applies to it (its namespace's and the root namespace's, selector or no selector; a targetRef
 * only for the Gateway API gateway it names) merged into one list, as istiod merges them into
 * one jwt_authn provider list (pilot/pkg/security/authn/policy_applier.go): the workload
 * namespace's policies first, then the root namespace's, each oldest first, then sorted by
 * issuer so the output does not depend on creation order more than Istio's does.
 */
import type { JwtRule } from '../../proxy-config/index.js';
import type { ResourceOf } from '../../resources/index.js';
import { labelsMatch } from '../../registry/index.js';
import type { Snapshot } from '../snapshot.js';
import { sourceOf } from '../snapshot/order.js';

type RequestAuthentication = ResourceOf<'RequestAuthentication'>;
type SpecRule = NonNullable<RequestAuthentication['spec']['jwtRules']>[number];

/** Envoy's defaults when a rule names no token location (jwt_authn extractor.cc). */
const DEFAULT_HEADER = { name: 'Authorization', prefix: 'Bearer ' };
const DEFAULT_PARAM = 'access_token';
/** Istio's default JWKS fetch timeout (convertToEnvoyJwtConfig). */
const DEFAULT_FETCH_TIMEOUT_MS = 5000;
/** The label Gateway API puts on the pods of a Gateway it deploys. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export function requestAuthnRules(snapshot: Snapshot, namespace: string, labels: Readonly<Record<string, string>>): JwtRule[] {
  const root = snapshot.mesh.rootNamespace;
  const namespaces = namespace === root ? [namespace] : [namespace, root];
  const rules: JwtRule[] = [];
  for (const ns of namespaces) {
    for (const policy of snapshot.requestAuthentications) {
      if (policy.metadata.namespace !== ns || !appliesTo(policy, namespace, labels)) continue;
      policy.spec.jwtRules?.forEach((rule, i) => rules.push(jwtRule(policy, rule, i)));
    }
  }
  // Array.prototype.sort is stable: rules of one issuer keep their policy order.
  return rules.sort((a, b) => (a.issuer < b.issuer ? -1 : a.issuer > b.issuer ? 1 : 0));
}

/**
 * Istio's getConfigsForWorkload and policy matcher: without targetRefs, an empty selector
 * selects every workload of the policy's namespace (every namespace for the root namespace) and
 * a selector those whose labels match; with targetRefs, only the pods of a named Gateway API
 * Gateway in the policy's namespace (Service and GatewayClass targets are for waypoints, which
 * Weft does not run).
 */
function appliesTo(policy: RequestAuthentication, namespace: string, labels: Readonly<Record<string, string>>): boolean {
  const refs = [...(policy.spec.targetRef ? [policy.spec.targetRef] : []), ...(policy.spec.targetRefs ?? [])];
  if (refs.length > 0) {
    if (policy.metadata.namespace !== namespace) return false;
    return refs.some((ref) => ref.kind === 'Gateway' && ref.group === 'gateway.networking.k8s.io' && labels[GATEWAY_NAME_LABEL] === ref.name);
  }
  return labelsMatch(policy.spec.selector?.matchLabels, labels);
}

function jwtRule(policy: RequestAuthentication, rule: SpecRule, index: number): JwtRule {
  const fromHeaders = (rule.fromHeaders ?? []).map((h) => ({ name: h.name, prefix: h.prefix ?? '' }));
  const fromParams = [...(rule.fromParams ?? [])];
  const fromCookies = [...(rule.fromCookies ?? [])];
  const noLocation = fromHeaders.length === 0 && fromParams.length === 0 && fromCookies.length === 0;
  const jwks = rule.jwks !== undefined && rule.jwks !== '' ? { jwks: rule.jwks } : {};
  const jwksUri = !jwks.jwks && rule.jwksUri !== undefined && rule.jwksUri !== '' ? { jwksUri: rule.jwksUri } : {};
  return {
    issuer: rule.issuer ?? '',
    audiences: [...(rule.audiences ?? [])],
    ...jwks,
    ...jwksUri,
    ...(jwks.jwks === undefined ? { jwksFetchTimeoutMs: rule.timeout ?? DEFAULT_FETCH_TIMEOUT_MS } : {}),
    fromHeaders: noLocation ? [{ ...DEFAULT_HEADER }] : fromHeaders,
    fromParams: noLocation ? [DEFAULT_PARAM] : fromParams,
    fromCookies,
    forwardOriginalToken: rule.forwardOriginalToken ?? false,
    ...(rule.outputPayloadToHeader ? { outputPayloadToHeader: rule.outputPayloadToHeader } : {}),
    outputClaimToHeaders: (rule.outputClaimToHeaders ?? []).map((c) => ({ header: c.header, claim: c.claim })),
    ...(rule.spaceDelimitedClaims && rule.spaceDelimitedClaims.length > 0 ? { spaceDelimitedClaims: [...rule.spaceDelimitedClaims] } : {}),
    source: sourceOf(policy, `spec.jwtRules[${index}]`),
  };
}
