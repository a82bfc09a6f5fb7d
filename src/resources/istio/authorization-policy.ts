/**
 * AuthorizationPolicy (security.istio.io v1beta1 and v1): allow, deny, audit or delegate
 * (CUSTOM) requests by source, operation and conditions. Schema from istio/api
 * security/v1beta1/authorization_policy.proto and its CRD rules; checks ported from
 * ValidateAuthorizationPolicy in istio/istio pkg/config/validation/validation.go and the helpers
 * in pkg/config/security/security.go.
 */
import { isIP } from 'node:net';
import { defineKind, type ValidationContext } from '../resource.js';
import { z, workloadSelector } from '../schema.js';
import { policyTargetRef, policyTargetRefs, checkPolicyScope } from './policy-scope.js';

const strings = z.array(z.string()).optional();
const serviceAccounts = z.array(z.string().max(320, 'a service account must be at most 320 characters')).max(16, 'may not have more than 16 values').optional();

export const source = z.strictObject({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts,
  notServiceAccounts: serviceAccounts,
  ipBlocks: strings,
  notIpBlocks: strings,
  remoteIpBlocks: strings,
  notRemoteIpBlocks: strings,
  trustDomains: strings,
  notTrustDomains: strings,
});
export type Source = z.output<typeof source>;

export const operation = z.strictObject({
  hosts: strings,
  notHosts: strings,
  ports: strings,
  notPorts: strings,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});
export type Operation = z.output<typeof operation>;

export const condition = z.strictObject({ key: z.string(), values: strings, notValues: strings });
export type Condition = z.output<typeof condition>;

export const rule = z.strictObject({
  from: z.array(z.strictObject({ source: source.optional() })).max(512).optional(),
  to: z.array(z.strictObject({ operation: operation.optional() })).optional(),
  when: z.array(condition).optional(),
});
export type Rule = z.output<typeof rule>;

export const authorizationAction = z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']);
export type AuthorizationAction = z.output<typeof authorizationAction>;

export const authorizationPolicySpec = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetRef.optional(),
  targetRefs: policyTargetRefs.optional(),
  /** Absent and `[]` mean the same (proto has no empty-vs-unset for lists): ALLOW matches nothing. */
  rules: z.array(rule).max(512).optional(),
  action: authorizationAction.default('ALLOW'),
  /** The extension provider (meshConfig.extensionProviders) a CUSTOM policy delegates to. */
  provider: z.strictObject({ name: z.string().optional() }).optional(),
});
export type AuthorizationPolicySpec = z.output<typeof authorizationPolicySpec>;

type Path = (string | number)[];

const SOURCE_FIELDS = Object.keys(source.shape) as (keyof Source)[];
const OPERATION_FIELDS = Object.keys(operation.shape) as (keyof Operation)[];
/** Source fields that come from the peer certificate, which a CUSTOM (ext_authz) check cannot see. */
const NOT_WITH_CUSTOM: (keyof Source)[] = ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'];
const TCP_SOURCE_FIELDS: (keyof Source)[] = ['principals', 'notPrincipals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'];
const NEVER_RULES = 'action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request';

export function validateAuthorizationPolicy(spec: AuthorizationPolicySpec, ctx: ValidationContext): void {
  checkPolicyScope(spec, ctx);
  const hasRules = spec.rules !== undefined && spec.rules.length > 0;
  if (spec.action === 'CUSTOM') {
    if (!hasRules) ctx.error(['action'], `CUSTOM ${NEVER_RULES}`);
    else if (!spec.provider?.name) ctx.error(spec.provider ? ['provider'] : ['action'], '`provider.name` must not be empty');
  } else if (spec.provider !== undefined) {
    ctx.error(['provider'], `\`provider\` must not be with non CUSTOM action, found ${spec.action}`);
  }
  if (spec.action === 'DENY' && !hasRules) ctx.error(['action'], `DENY ${NEVER_RULES}`);
  spec.rules?.forEach((r, i) => checkRule(r, ['rules', i], spec.action, ctx));
}

function checkRule(r: Rule, at: Path, action: AuthorizationAction, ctx: ValidationContext): void {
  let tcpInFrom = false;
  let tcpInTo = false;
  let fromExists = false;
  let toExists = false;
  if (r.from !== undefined && r.from.length === 0) ctx.warning([...at, 'from'], 'an empty `from` list is the same as no `from`: the rule matches requests from any source');
  if (r.to !== undefined && r.to.length === 0) ctx.warning([...at, 'to'], 'an empty `to` list is the same as no `to`: the rule matches any operation');
  r.from?.forEach((from, j) => {
    const path = [...at, 'from', j, 'source'];
    if (from.source === undefined) {
      ctx.error([...at, 'from', j], '`from.source` must not be nil');
      return;
    }
    fromExists = true;
    checkSource(from.source, path, action, ctx);
    if (TCP_SOURCE_FIELDS.some((f) => from.source?.[f] !== undefined)) tcpInFrom = true;
  });
  r.to?.forEach((to, j) => {
    if (to.operation === undefined) {
      ctx.error([...at, 'to', j], '`to.operation` must not be nil');
      return;
    }
    toExists = true;
    checkOperation(to.operation, [...at, 'to', j, 'operation'], ctx);
    if (to.operation.ports !== undefined || to.operation.notPorts !== undefined) tcpInTo = true;
  });
  r.when?.forEach((c, j) => checkCondition(c, [...at, 'when', j], action, ctx));
  if (action === 'DENY' && ((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo))) {
    ctx.warning(at, 'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port');
  }
}

function checkSource(src: Source, at: Path, action: AuthorizationAction, ctx: ValidationContext): void {
  const set = SOURCE_FIELDS.filter((f) => (src[f]?.length ?? 0) > 0);
  if (set.length === 0) ctx.error(at, '`from.source` must not be empty');
  const accounts = set.find((f) => f === 'serviceAccounts' || f === 'notServiceAccounts');
  if (accounts && set.some((f) => f === 'principals' || f === 'notPrincipals' || f === 'namespaces' || f === 'notNamespaces')) {
    ctx.error([...at, accounts], 'cannot set serviceAccounts with namespaces or principals');
  }
  for (const field of SOURCE_FIELDS) {
    const values = src[field];
    if (values === undefined) continue;
    if (action === 'CUSTOM' && NOT_WITH_CUSTOM.includes(field) && values.length > 0) {
      ctx.error([...at, field], `${field} is currently not supported with CUSTOM action`);
    }
    values.forEach((v, k) => {
      const path = [...at, field, k];
      const problem = v === '' ? `empty value not allowed, found in ${field}`
        : field.endsWith('pBlocks') ? ipProblem(v)
        : field === 'serviceAccounts' || field === 'notServiceAccounts' ? serviceAccountProblem(v, field)
        : field === 'trustDomains' || field === 'notTrustDomains' ? trustDomainProblem(v, field)
        : undefined;
      if (problem) ctx.error(path, problem);
      else if (/rincipals$|amespaces$/.test(field)) warnMiddleWildcard(v, path, ctx);
    });
  }
}

function checkOperation(op: Operation, at: Path, ctx: ValidationContext): void {
  if (OPERATION_FIELDS.every((f) => (op[f]?.length ?? 0) === 0)) ctx.error(at, '`to.operation` must not be empty');
  for (const field of OPERATION_FIELDS) {
    op[field]?.forEach((v, k) => {
      const path = [...at, field, k];
      const problem = v === '' ? `empty value not allowed, found in ${field}`
        : field === 'ports' || field === 'notPorts' ? portProblem(v)
        : field === 'paths' || field === 'notPaths' ? pathTemplateProblem(v, field)
        : undefined;
      if (problem) ctx.error(path, problem);
      else if ((field === 'methods' || field === 'notMethods') && v !== v.toUpperCase()) {
        ctx.warning(path, `HTTP methods are matched case-sensitively, so "${v}" never matches; use "${v.toUpperCase()}"`);
      } else if (/osts$/.test(field) || (/aths$/.test(field) && !v.includes('{'))) warnMiddleWildcard(v, path, ctx);
    });
  }
}

/** Attributes a `when` key may name (pkg/config/security/security.go ValidateAttribute). */
const PLAIN_KEYS = new Set(['source.namespace', 'source.principal', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'connection.sni']);
const NOT_WITH_CUSTOM_KEYS = new Set(['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal']);

function checkCondition(c: Condition, at: Path, action: AuthorizationAction, ctx: ValidationContext): void {
  if (c.key === '') {
    ctx.error([...at, 'key'], '`key` must not be empty');
    return;
  }
  if (action === 'CUSTOM' && (NOT_WITH_CUSTOM_KEYS.has(c.key) || c.key.startsWith('request.auth.'))) {
    ctx.error([...at, 'key'], `${c.key} is currently not supported with CUSTOM action`);
  }
  if ((c.values?.length ?? 0) === 0 && (c.notValues?.length ?? 0) === 0) {
    ctx.error(at, `at least one of \`values\` or \`notValues\` must be set for key ${c.key}`);
    return;
  }
  const keyProblem = attributeKeyProblem(c.key);
  if (keyProblem) {
    ctx.error([...at, 'key'], keyProblem);
    return;
  }
  for (const field of ['values', 'notValues'] as const) {
    c[field]?.forEach((v, k) => {
      const problem = attributeValueProblem(c.key, v);
      if (problem) ctx.error([...at, field, k], `invalid \`${field === 'values' ? 'value' : 'notValue'}\` for \`key\` ${c.key}: ${problem}`);
    });
  }
}

function attributeKeyProblem(key: string): string | undefined {
  const mapKey = () => {
    const open = key.indexOf('[');
    return key.endsWith(']') && open > 0 && open < key.length - 2 ? undefined : `bad key (${key}): should have format a[b]`;
  };
  if (key.startsWith('request.headers') || key.startsWith('request.auth.claims') || key.startsWith('experimental.envoy.filters.')) return mapKey();
  if (PLAIN_KEYS.has(key) || ['source.ip', 'remote.ip', 'destination.ip', 'destination.port', 'source.serviceAccount', 'source.trustDomain'].includes(key)) return undefined;
  if (key === 'destination.namespace') return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user') return `deprecated attribute ${key}: only supported in v1alpha1`;
  return `unknown attribute: ${key}`;
}

function attributeValueProblem(key: string, value: string): string | undefined {
  if (value === '') return `empty value not allowed, found in ${key}`;
  switch (key) {
    case 'source.ip': case 'remote.ip': case 'destination.ip': return ipProblem(value);
    case 'destination.port': return portProblem(value);
    case 'source.serviceAccount': return serviceAccountProblem(value, key);
    case 'source.trustDomain': return wildcardProblem(value, key);
    default: return undefined;
  }
}

/** An IP address or CIDR range, as Go's netip.ParseAddr / ParsePrefix accept them. */
export function ipProblem(value: string): string | undefined {
  const slash = value.indexOf('/');
  if (slash < 0) return isIP(value) ? undefined : `bad IP address (${value})`;
  const addr = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const family = addr.includes('%') ? 0 : isIP(addr);
  if (family === 0) return `bad CIDR range (${value}): "${addr}" is not an IP address`;
  const max = family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d*)$/.test(bits) || Number(bits) > max) return `bad CIDR range (${value}): bad bits after slash: "${bits}"`;
  return undefined;
}

function portProblem(value: string): string | undefined {
  return /^\d+$/.test(value) && Number(value) <= 65535 ? undefined : `bad port (${value}): must be a number in 0..65535`;
}

function serviceAccountProblem(value: string, field: string): string | undefined {
  if (value.includes('*')) return `wildcard not allowed, found in ${field}`;
  const parts = value.split('/');
  if (parts.length > 2) return `expected format 'serviceAccount' or 'namespace/serviceAccount', found "${value}" in ${field}`;
  if (parts.length === 2 && parts[0] === '') return `expected format 'serviceAccount' or 'namespace/serviceAccount', found empty namespace "${value}" in ${field}`;
  if (parts.length === 2 && parts[1] === '') return `expected format 'serviceAccount' or 'namespace/serviceAccount', found empty serviceAccount "${value}" in ${field}`;
  return undefined;
}

function wildcardProblem(value: string, field: string): string | undefined {
  const count = value.split('*').length - 1;
  if (count > 1) return `at most one wildcard is allowed, found in ${field}: "${value}"`;
  if (count === 1 && value !== '*' && !value.startsWith('*') && !value.endsWith('*')) return `wildcard is only allowed at the start or end, found in ${field}: "${value}"`;
  return undefined;
}

function trustDomainProblem(value: string, field: string): string | undefined {
  return wildcardProblem(value, field) ?? (value.includes('/') ? `trust domain must not contain '/', found in ${field}: "${value}"` : undefined);
}

/**
 * Istio turns `*` into a prefix, suffix or presence match only at the start or end; anywhere else
 * it is a literal character, which is rarely what was meant. Istio accepts it, so this warns.
 */
function warnMiddleWildcard(value: string, path: Path, ctx: ValidationContext): void {
  const inner = value.slice(1, -1);
  if (value.length > 2 && inner.includes('*')) {
    ctx.warning(path, `"*" is a wildcard only at the start or end of a value; in "${value}" the inner "*" matches a literal "*"`);
  }
}

const VALID_LITERAL = /^[a-zA-Z0-9\-._~%!$&'()+,;:@=]+$/;

/** Istio's CheckValidPathTemplate: `{*}` matches one segment, `{**}` the rest and must come last. */
export function pathTemplateProblem(path: string, field: string): string | undefined {
  const hasTemplate = path.includes('{*}') || path.includes('{**}');
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  let matchAny = false;
  for (const glob of trimmed.split('/')) {
    if ((glob === '{*}' || glob === '{**}') && matchAny) return `invalid or unsupported path ${trimmed}, found in ${field}. {**} is not the last operator`;
    if (glob === '{*}') continue;
    if (glob === '{**}') {
      matchAny = true;
      continue;
    }
    if (/[{}]/.test(glob)) return `invalid or unsupported path ${trimmed}, found in ${field}. Contains '{' or '}' beyond a supported path template`;
    if (hasTemplate && !VALID_LITERAL.test(glob)) return `invalid or unsupported path ${trimmed}, found in ${field}. Contains segment ${glob} with invalid string literal`;
  }
  return undefined;
}

export const authorizationPolicyKind = defineKind({
  kind: 'AuthorizationPolicy',
  group: 'security.istio.io',
  versions: ['v1beta1', 'v1'],
  namespaced: true,
  spec: authorizationPolicySpec,
  emptySpec: {},
  validate: validateAuthorizationPolicy,
});
