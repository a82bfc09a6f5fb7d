/**
 * AuthorizationPolicy for one workload (ISTIO-SEMANTICS §9): which policies apply to it (Istio's
 * ListAuthorizationPolicies and ShouldAttachPolicy), and each compiled for an HTTP or a TCP
 * filter chain as Istio's authz builder does (pilot/pkg/security/authz/builder, model).
 *
 * Scope: policies in the root namespace and in the workload's namespace, oldest first; a
 * `selector` narrows to workloads whose labels include its matchLabels (in the root namespace,
 * in any namespace). `targetRef(s)` attach only to a Gateway API gateway of that name in the
 * policy's namespace (the `gateway.networking.k8s.io/gateway-name` label); Service, ServiceEntry
 * and GatewayClass targets are for waypoints, which Weft does not run, and a sidecar or an Istio
 * Gateway ignores any policy with targetRefs, as Istio does.
 *
 * CUSTOM policies call the ext_authz provider they name (ext-authz.ts); the `istio.io/dry-run`
 * annotation marks an ALLOW or DENY policy as evaluated but not enforced.
 *
 * TCP: HTTP-only fields (requestPrincipals, hosts, methods, paths, `request.*` conditions) cannot
 * be checked on a TCP connection. An ALLOW rule that uses one is dropped (the policy allows
 * less); a DENY, AUDIT or CUSTOM rule loses only those fields (it denies more).
 */
import type { AuthorizationCondition, AuthorizationOperation, AuthorizationPolicy, AuthorizationRule, AuthorizationSource, ExtAuthzService } from '../../proxy-config/index.js';
import type { ResourceOf } from '../../resources/index.js';
import type { Snapshot } from '../snapshot.js';
import { resolveExtAuthz } from './ext-authz.js';

type PolicyResource = ResourceOf<'AuthorizationPolicy'>;
type Rule = NonNullable<PolicyResource['spec']['rules']>[number];
type Source = NonNullable<NonNullable<Rule['from']>[number]['source']>;
type Operation = NonNullable<NonNullable<Rule['to']>[number]['operation']>;

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const DEFAULT_TRUST_DOMAIN = 'cluster.local';

const HTTP_ONLY_SOURCE: readonly (keyof AuthorizationSource)[] = ['requestPrincipals', 'notRequestPrincipals'];
const HTTP_ONLY_OPERATION: readonly (keyof AuthorizationOperation)[] = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'];

/** `when` keys Istio's authz model knows (model.go); any other makes Istio skip the rule. */
const PLAIN_KEYS = new Set([
  'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'source.serviceAccount', 'source.trustDomain',
  'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter',
  'destination.ip', 'destination.port', 'connection.sni',
]);

/** The workload a chain serves: whose policies it enforces. */
export interface PolicyTarget {
  snapshot: Snapshot;
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** The AuthorizationPolicies attached to the workload, root namespace first, each namespace oldest first. */
export function workloadAuthorizationPolicies(target: PolicyTarget): PolicyResource[] {
  const { snapshot, namespace, labels } = target;
  const root = snapshot.mesh.rootNamespace;
  const gatewayName = labels[GATEWAY_NAME_LABEL];
  const inScope = (p: PolicyResource, ns: string) => p.metadata.namespace === ns;
  const out: PolicyResource[] = [];
  for (const ns of root === namespace ? [root] : [root, namespace]) {
    for (const p of snapshot.authorizationPolicies) {
      if (inScope(p, ns) && attaches(p, namespace, labels, gatewayName)) out.push(p);
    }
  }
  return out;
}

function attaches(p: PolicyResource, namespace: string, labels: Readonly<Record<string, string>>, gatewayName: string | undefined): boolean {
  const refs = p.spec.targetRefs?.length ? p.spec.targetRefs : p.spec.targetRef ? [p.spec.targetRef] : [];
  if (refs.length === 0) {
    const match = p.spec.selector?.matchLabels ?? {};
    return Object.entries(match).every(([k, v]) => labels[k] === v);
  }
  if (gatewayName === undefined || p.metadata.namespace !== namespace) return false;
  return refs.some((r) => r.kind === 'Gateway' && r.group === 'gateway.networking.k8s.io' && r.name === gatewayName && (r.namespace ?? '') === '');
}

/** What one filter chain enforces: its policies and, when its CUSTOM policies have a usable provider, the ext_authz service. */
export interface ChainAuthorization {
  policies: AuthorizationPolicy[];
  extAuthz?: ExtAuthzService;
}

/**
 * The workload's policies compiled for one filter chain; no policies when none applies. CUSTOM
 * policies call their provider when it resolves (ext-authz.ts); otherwise each carries the reason
 * and denies what it matches. Istio's HTTP ext_authz has no TCP filter: on a TCP chain a CUSTOM
 * policy with a usable HTTP provider is ignored ("ignored CUSTOM action with HTTP provider on TCP
 * filter chain"), and one with a bad provider still denies.
 */
export function chainAuthorization(target: PolicyTarget, protocol: 'http' | 'tcp'): ChainAuthorization {
  const trustDomain = target.snapshot.mesh.trustDomain;
  const resources = workloadAuthorizationPolicies(target);
  const providers = resources.flatMap((p) => (p.spec.action === 'CUSTOM' ? [p.spec.provider?.name ?? ''] : []));
  const resolution = providers.length > 0 ? resolveExtAuthz(target.snapshot, providers) : undefined;
  const policies: AuthorizationPolicy[] = [];
  for (const p of resources) {
    const compiled = compilePolicy(p, protocol, trustDomain);
    if (compiled.action === 'CUSTOM' && resolution) {
      if (resolution.ok && protocol === 'tcp') continue;
      if (!resolution.ok) compiled.providerError = resolution.reason;
    }
    policies.push(compiled);
  }
  return { policies, ...(resolution?.ok && protocol === 'http' ? { extAuthz: resolution.service } : {}) };
}

export function compilePolicy(p: PolicyResource, protocol: 'http' | 'tcp', trustDomain: string): AuthorizationPolicy {
  const action = p.spec.action;
  const rules: AuthorizationRule[] = [];
  (p.spec.rules ?? []).forEach((rule, index) => {
    const compiled = compileRule(rule, index, p.metadata.namespace, trustDomain);
    if (!compiled) return;
    if (protocol === 'http') rules.push(compiled);
    else if (action === 'ALLOW') {
      if (!usesHttpOnly(compiled)) rules.push(compiled);
    } else rules.push(withoutHttpOnly(compiled));
  });
  return {
    name: `ns[${p.metadata.namespace}]-policy[${p.metadata.name}]`,
    action,
    ...(action === 'CUSTOM' && p.spec.provider?.name ? { provider: p.spec.provider.name } : {}),
    ...((action === 'ALLOW' || action === 'DENY') && isDryRun(p) ? { dryRun: true } : {}),
    rules,
    source: { kind: 'AuthorizationPolicy', namespace: p.metadata.namespace, name: p.metadata.name },
  };
}

/** Istio reads the annotation with Go's strconv.ParseBool; only ALLOW and DENY support dry-run. */
function isDryRun(p: PolicyResource): boolean {
  const v = p.metadata.annotations?.[DRY_RUN_ANNOTATION];
  return v !== undefined && TRUE_VALUES.has(v);
}

/** undefined when Istio would skip the rule: a `when` key its model does not know. */
function compileRule(rule: Rule, index: number, namespace: string, trustDomain: string): AuthorizationRule | undefined {
  const when: AuthorizationCondition[] = [];
  for (const c of rule.when ?? []) {
    const condition = compileCondition(c.key, c.values ?? [], c.notValues ?? [], namespace, trustDomain);
    if (!condition) return undefined;
    when.push(condition);
  }
  return {
    index,
    from: (rule.from ?? []).flatMap((f) => (f.source ? [compileSource(f.source, namespace, trustDomain)] : [])),
    to: (rule.to ?? []).flatMap((t) => (t.operation ? [compileOperation(t.operation)] : [])),
    when,
  };
}

function compileSource(s: Source, namespace: string, trustDomain: string): AuthorizationSource {
  const out: AuthorizationSource = {};
  const set = (field: keyof AuthorizationSource, values: string[] | undefined) => {
    if (values && values.length > 0) out[field] = values;
  };
  set('principals', s.principals && migrateTrustDomain(s.principals, trustDomain));
  set('notPrincipals', s.notPrincipals && migrateTrustDomain(s.notPrincipals, trustDomain));
  set('requestPrincipals', s.requestPrincipals);
  set('notRequestPrincipals', s.notRequestPrincipals);
  set('namespaces', s.namespaces);
  set('notNamespaces', s.notNamespaces);
  set('serviceAccounts', s.serviceAccounts?.map((a) => qualifyServiceAccount(a, namespace)));
  set('notServiceAccounts', s.notServiceAccounts?.map((a) => qualifyServiceAccount(a, namespace)));
  set('trustDomains', s.trustDomains && expandTrustDomain(s.trustDomains, trustDomain));
  set('notTrustDomains', s.notTrustDomains && expandTrustDomain(s.notTrustDomains, trustDomain));
  set('ipBlocks', s.ipBlocks);
  set('notIpBlocks', s.notIpBlocks);
  set('remoteIpBlocks', s.remoteIpBlocks);
  set('notRemoteIpBlocks', s.notRemoteIpBlocks);
  return out;
}

function compileOperation(o: Operation): AuthorizationOperation {
  const out: AuthorizationOperation = {};
  for (const field of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const) {
    const values = o[field];
    if (values && values.length > 0) out[field] = values;
  }
  if (o.ports?.length) out.ports = o.ports.map(Number);
  if (o.notPorts?.length) out.notPorts = o.notPorts.map(Number);
  return out;
}

function compileCondition(key: string, values: string[], notValues: string[], namespace: string, trustDomain: string): AuthorizationCondition | undefined {
  const open = key.indexOf('[');
  const attribute = open < 0 ? key : key.slice(0, open);
  let names: string[] | undefined;
  if (attribute === 'request.headers' || attribute === 'request.auth.claims' || attribute.startsWith('experimental.envoy.filters.')) {
    names = bracketNames(key.slice(open < 0 ? key.length : open));
    if (!names || names.length === 0) return undefined;
    if (attribute === 'request.headers') {
      if (names.length !== 1) return undefined;
      names = [names[0]!.toLowerCase()];
    }
  } else if (open >= 0 || !PLAIN_KEYS.has(attribute)) {
    return undefined;
  }
  // Istio's model rewrites these values as it does the same fields of a source.
  const rewrite = (v: string[]) => attribute === 'source.principal' ? migrateTrustDomain(v, trustDomain)
    : attribute === 'source.serviceAccount' ? v.map((a) => qualifyServiceAccount(a, namespace))
    : attribute === 'source.trustDomain' ? expandTrustDomain(v, trustDomain)
    : v;
  return {
    key: attribute,
    ...(names ? { names } : {}),
    ...(values.length > 0 ? { values: rewrite(values) } : {}),
    ...(notValues.length > 0 ? { notValues: rewrite(notValues) } : {}),
  };
}

/** `[a][b]` -> ['a', 'b']; undefined when the brackets do not close. */
function bracketNames(s: string): string[] | undefined {
  const names: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] !== '[') return undefined;
    const end = s.indexOf(']', i);
    if (end < 0) return undefined;
    names.push(s.slice(i + 1, end));
    i = end + 1;
  }
  return names;
}

function qualifyServiceAccount(value: string, namespace: string): string {
  return value.includes('/') ? value : `${namespace}/${value}`;
}

/** Istio's MigrateTrustDomain: `cluster.local` in a principal stands for the mesh's own trust domain. */
function migrateTrustDomain(principals: string[], trustDomain: string): string[] {
  if (trustDomain === DEFAULT_TRUST_DOMAIN) return principals;
  return principals.map((p) => (p.startsWith(`${DEFAULT_TRUST_DOMAIN}/`) ? `${trustDomain}${p.slice(DEFAULT_TRUST_DOMAIN.length)}` : p));
}

function expandTrustDomain(domains: string[], trustDomain: string): string[] {
  if (trustDomain === DEFAULT_TRUST_DOMAIN) return domains;
  return [...new Set(domains.flatMap((d) => (d === DEFAULT_TRUST_DOMAIN ? [d, trustDomain] : [d])))];
}

function usesHttpOnly(rule: AuthorizationRule): boolean {
  return rule.from.some((s) => HTTP_ONLY_SOURCE.some((f) => s[f] !== undefined))
    || rule.to.some((o) => HTTP_ONLY_OPERATION.some((f) => o[f] !== undefined))
    || rule.when.some((c) => c.key.startsWith('request.'));
}

/** The rule with its HTTP-only fields dropped; an emptied source or operation matches anything. */
function withoutHttpOnly(rule: AuthorizationRule): AuthorizationRule {
  return {
    index: rule.index,
    from: rule.from.map((s) => omit(s, HTTP_ONLY_SOURCE)),
    to: rule.to.map((o) => omit(o, HTTP_ONLY_OPERATION)),
    when: rule.when.filter((c) => !c.key.startsWith('request.')),
  };
}

function omit<T extends object>(value: T, keys: readonly (keyof T)[]): T {
  const out = { ...value };
  for (const k of keys) delete out[k];
  return out;
}
