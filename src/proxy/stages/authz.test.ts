/**
 * The AuthorizationPolicy matcher, field by field: each case has a request the rule matches and
 * one it does not, checked through a DENY policy (match = denied) and, for the evaluation order,
 * ALLOW, CUSTOM and AUDIT policies together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthorizationPolicy, AuthorizationRule } from '../../proxy-config/index.js';
import { authorize, authorizeCustom, authorizeRbac, type AuthzHttpInput, type AuthzInput } from './authz.js';

function request(over: Partial<AuthzInput> = {}, http: Partial<AuthzHttpInput> & { headers?: Record<string, string> } = {}): AuthzInput {
  const headers = http.headers ?? {};
  return {
    principal: 'cluster.local/ns/default/sa/sleep',
    sourceIp: '10.0.0.5',
    remoteIp: '10.0.0.5',
    destinationIp: '10.0.0.9',
    destinationPort: 8080,
    sni: 'app.default.svc.cluster.local',
    http: {
      method: http.method ?? 'GET',
      path: http.path ?? '/',
      authority: http.authority ?? 'app.example.com',
      header: (name) => headers[name],
      claims: http.claims,
    },
    ...over,
  };
}

function policy(action: AuthorizationPolicy['action'], rules: Partial<AuthorizationRule>[], name = 'p'): AuthorizationPolicy {
  return { name: `ns[default]-policy[${name}]`, action, rules: rules.map((r, index) => ({ index, from: [], to: [], when: [], ...r })) };
}

const denies = (rule: Partial<AuthorizationRule>, input: AuthzInput) => !authorize([policy('DENY', [rule])], input).allowed;

/** [name, rule, a request it matches, a request it does not]. */
const fieldCases: [string, Partial<AuthorizationRule>, AuthzInput, AuthzInput][] = [
  ['principals exact', { from: [{ principals: ['cluster.local/ns/default/sa/sleep'] }] }, request(), request({ principal: 'cluster.local/ns/default/sa/other' })],
  ['principals * needs a peer identity', { from: [{ principals: ['*'] }] }, request(), request({ principal: undefined })],
  ['principals prefix', { from: [{ principals: ['cluster.local/ns/default/*'] }] }, request(), request({ principal: 'cluster.local/ns/prod/sa/sleep' })],
  ['notPrincipals', { from: [{ notPrincipals: ['cluster.local/ns/default/sa/admin'] }] }, request(), request({ principal: 'cluster.local/ns/default/sa/admin' })],
  ['notPrincipals holds on plaintext', { from: [{ notPrincipals: ['*'] }] }, request({ principal: undefined }), request()],
  ['namespaces', { from: [{ namespaces: ['default'] }] }, request(), request({ principal: 'cluster.local/ns/prod/sa/sleep' })],
  ['namespaces need mTLS', { from: [{ namespaces: ['*'] }] }, request(), request({ principal: undefined })],
  ['namespaces suffix', { from: [{ namespaces: ['*ult'] }] }, request(), request({ principal: 'cluster.local/ns/prod/sa/sleep' })],
  ['notNamespaces', { from: [{ notNamespaces: ['prod'] }] }, request(), request({ principal: 'cluster.local/ns/prod/sa/sleep' })],
  ['serviceAccounts', { from: [{ serviceAccounts: ['default/sleep'] }] }, request(), request({ principal: 'cluster.local/ns/default/sa/sleep2' })],
  ['notServiceAccounts', { from: [{ notServiceAccounts: ['default/admin'] }] }, request(), request({ principal: 'cluster.local/ns/default/sa/admin' })],
  ['trustDomains', { from: [{ trustDomains: ['cluster.local'] }] }, request(), request({ principal: 'other.org/ns/default/sa/sleep' })],
  ['notTrustDomains', { from: [{ notTrustDomains: ['other.org'] }] }, request(), request({ principal: 'other.org/ns/default/sa/sleep' })],
  ['ipBlocks CIDR', { from: [{ ipBlocks: ['10.0.0.0/24'] }] }, request(), request({ sourceIp: '10.0.1.5' })],
  ['ipBlocks IPv4-mapped peer', { from: [{ ipBlocks: ['10.0.0.5'] }] }, request({ sourceIp: '::ffff:10.0.0.5' }), request({ sourceIp: '::ffff:10.0.0.6' })],
  ['ipBlocks IPv6', { from: [{ ipBlocks: ['fd00::/8'] }] }, request({ sourceIp: 'fd00::1' }), request({ sourceIp: 'fe80::1' })],
  ['notIpBlocks', { from: [{ notIpBlocks: ['192.168.0.0/16'] }] }, request(), request({ sourceIp: '192.168.3.4' })],
  ['remoteIpBlocks', { from: [{ remoteIpBlocks: ['203.0.113.0/24'] }] }, request({ remoteIp: '203.0.113.7' }), request()],
  ['notRemoteIpBlocks', { from: [{ notRemoteIpBlocks: ['203.0.113.0/24'] }] }, request(), request({ remoteIp: '203.0.113.7' })],
  ['requestPrincipals exact', { from: [{ requestPrincipals: ['https://issuer.example/alice'] }] }, request({}, { claims: { iss: 'https://issuer.example', sub: 'alice' } }), request({}, { claims: { iss: 'https://issuer.example', sub: 'bob' } })],
  ['requestPrincipals * needs a JWT', { from: [{ requestPrincipals: ['*'] }] }, request({}, { claims: { iss: 'i', sub: 's' } }), request()],
  ['requestPrincipals issuer/*', { from: [{ requestPrincipals: ['https://issuer.example/*'] }] }, request({}, { claims: { iss: 'https://issuer.example', sub: 'x' } }), request({}, { claims: { iss: 'https://evil.example', sub: 'x' } })],
  ['requestPrincipals */subject', { from: [{ requestPrincipals: ['*/alice'] }] }, request({}, { claims: { iss: 'https://a.example', sub: 'alice' } }), request({}, { claims: { iss: 'https://a.example', sub: 'mallory' } })],
  ['notRequestPrincipals holds without a JWT', { from: [{ notRequestPrincipals: ['*'] }] }, request(), request({}, { claims: { iss: 'i', sub: 's' } })],
  ['hosts case-insensitive', { to: [{ hosts: ['App.Example.com'] }] }, request({}, { authority: 'app.EXAMPLE.com' }), request({}, { authority: 'other.example.com' })],
  ['hosts: the port is not ignored', { to: [{ hosts: ['app.example.com'] }] }, request({}, { authority: 'app.example.com' }), request({}, { authority: 'app.example.com:8080' })],
  ['hosts suffix', { to: [{ hosts: ['*.example.com'] }] }, request(), request({}, { authority: 'example.org' })],
  ['notHosts', { to: [{ notHosts: ['admin.example.com'] }] }, request(), request({}, { authority: 'ADMIN.example.com' })],
  ['ports', { to: [{ ports: [8080] }] }, request(), request({ destinationPort: 9090 })],
  ['notPorts', { to: [{ notPorts: [9090] }] }, request(), request({ destinationPort: 9090 })],
  ['methods (case-sensitive)', { to: [{ methods: ['POST'] }] }, request({}, { method: 'POST' }), request({}, { method: 'post' })],
  ['notMethods', { to: [{ notMethods: ['GET', 'HEAD'] }] }, request({}, { method: 'DELETE' }), request({}, { method: 'HEAD' })],
  ['paths exact', { to: [{ paths: ['/admin'] }] }, request({}, { path: '/admin' }), request({}, { path: '/admin/x' })],
  ['paths prefix', { to: [{ paths: ['/admin*'] }] }, request({}, { path: '/admin/users' }), request({}, { path: '/ADMIN' })],
  ['paths suffix', { to: [{ paths: ['*.php'] }] }, request({}, { path: '/x/index.php' }), request({}, { path: '/x/index.html' })],
  ['paths * any', { to: [{ paths: ['*'] }] }, request({}, { path: '/' }), request({ http: undefined })],
  ['paths {*} one segment', { to: [{ paths: ['/users/{*}/profile'] }] }, request({}, { path: '/users/42/profile' }), request({}, { path: '/users/4/2/profile' })],
  ['paths {**} the rest', { to: [{ paths: ['/files/{**}'] }] }, request({}, { path: '/files/a/b/c.txt' }), request({}, { path: '/filesx/a' })],
  ['notPaths', { to: [{ notPaths: ['/healthz'] }] }, request({}, { path: '/data' }), request({}, { path: '/healthz' })],
  ['when request.headers', { when: [{ key: 'request.headers', names: ['x-token'], values: ['secret'] }] }, request({}, { headers: { 'x-token': 'secret' } }), request({}, { headers: { 'x-token': 'guess' } })],
  ['when request.headers * is presence', { when: [{ key: 'request.headers', names: ['x-token'], values: ['*'] }] }, request({}, { headers: { 'x-token': '' } }), request()],
  ['when request.headers notValues * (header missing)', { when: [{ key: 'request.headers', names: ['x-token'], notValues: ['*'] }] }, request(), request({}, { headers: { 'x-token': 'a' } })],
  ['when source.ip', { when: [{ key: 'source.ip', values: ['10.0.0.0/8'] }] }, request(), request({ sourceIp: '172.16.0.1' })],
  ['when remote.ip notValues', { when: [{ key: 'remote.ip', notValues: ['10.0.0.0/8'] }] }, request({ remoteIp: '198.51.100.1' }), request()],
  ['when source.namespace', { when: [{ key: 'source.namespace', values: ['default'] }] }, request(), request({ principal: 'cluster.local/ns/prod/sa/x' })],
  ['when source.principal', { when: [{ key: 'source.principal', values: ['cluster.local/ns/default/sa/sleep'] }] }, request(), request({ principal: undefined })],
  ['when source.serviceAccount', { when: [{ key: 'source.serviceAccount', values: ['default/sleep'] }] }, request(), request({ principal: 'cluster.local/ns/x/sa/sleep' })],
  ['when source.trustDomain', { when: [{ key: 'source.trustDomain', values: ['cluster.*'] }] }, request(), request({ principal: 'other.org/ns/default/sa/sleep' })],
  ['when request.auth.principal', { when: [{ key: 'request.auth.principal', values: ['iss/alice'] }] }, request({}, { claims: { iss: 'iss', sub: 'alice' } }), request({}, { claims: { iss: 'iss', sub: 'eve' } })],
  ['when request.auth.audiences (list claim)', { when: [{ key: 'request.auth.audiences', values: ['api'] }] }, request({}, { claims: { aud: ['web', 'api'] } }), request({}, { claims: { aud: 'web' } })],
  ['when request.auth.presenter', { when: [{ key: 'request.auth.presenter', values: ['cli-*'] }] }, request({}, { claims: { azp: 'cli-1' } }), request({}, { claims: { azp: 'web' } })],
  ['when request.auth.claims (list)', { when: [{ key: 'request.auth.claims', names: ['groups'], values: ['admin'] }] }, request({}, { claims: { groups: ['dev', 'admin'] } }), request({}, { claims: { groups: ['dev'] } })],
  ['when request.auth.claims nested', { when: [{ key: 'request.auth.claims', names: ['realm', 'role'], values: ['owner'] }] }, request({}, { claims: { realm: { role: 'owner' } } }), request({}, { claims: { realm: { role: 'guest' } } })],
  ['when request.auth.claims: a number claim matches no string', { when: [{ key: 'request.auth.claims', names: ['level'], notValues: ['5'] }] }, request({}, { claims: { level: 5 } }), request({}, { claims: { level: '5' } })],
  ['when destination.ip', { when: [{ key: 'destination.ip', values: ['10.0.0.9'] }] }, request(), request({ destinationIp: '10.0.0.8' })],
  ['when destination.port', { when: [{ key: 'destination.port', values: ['8080'] }] }, request(), request({ destinationPort: 8081 })],
  ['when connection.sni', { when: [{ key: 'connection.sni', values: ['*.svc.cluster.local'] }] }, request(), request({ sni: undefined })],
];

for (const [name, rule, matching, other] of fieldCases) {
  test(`authz field: ${name}`, () => {
    assert.equal(denies(rule, matching), true, 'the matching request is denied');
    assert.equal(denies(rule, other), false, 'the other request passes');
  });
}

test('within a rule from, to and when are ANDed; entries of from are ORed', () => {
  const rule: Partial<AuthorizationRule> = {
    from: [{ namespaces: ['prod'] }, { principals: ['cluster.local/ns/default/sa/sleep'] }],
    to: [{ methods: ['POST'] }],
    when: [{ key: 'request.headers', names: ['x-a'], values: ['1'] }],
  };
  assert.equal(denies(rule, request({}, { method: 'POST', headers: { 'x-a': '1' } })), true);
  assert.equal(denies(rule, request({}, { method: 'GET', headers: { 'x-a': '1' } })), false);
  assert.equal(denies(rule, request({}, { method: 'POST' })), false);
  assert.equal(denies(rule, request({ principal: 'cluster.local/ns/x/sa/y' }, { method: 'POST', headers: { 'x-a': '1' } })), false);
});

test('fields of one source are ANDed; X and notX together', () => {
  const rule = { from: [{ namespaces: ['default'], notPrincipals: ['cluster.local/ns/default/sa/admin'] }] };
  assert.equal(denies(rule, request()), true);
  assert.equal(denies(rule, request({ principal: 'cluster.local/ns/default/sa/admin' })), false);
});

test('an ALLOW policy with no rules allows nothing; rules: [{}] allows everything', () => {
  const nothing = authorize([policy('ALLOW', [])], request());
  assert.deepEqual(nothing, { allowed: false, policy: 'none' });
  assert.equal(authorize([policy('ALLOW', [{}])], request()).allowed, true);
  assert.equal(authorize([policy('DENY', [{}])], request()).allowed, false);
});

test('no policy allows; any ALLOW policy makes the others default-deny', () => {
  assert.equal(authorize([], request()).allowed, true);
  const getOnly = policy('ALLOW', [{ to: [{ methods: ['GET'] }] }], 'get-only');
  assert.equal(authorize([getOnly], request({}, { method: 'GET' })).allowed, true);
  assert.deepEqual(authorize([getOnly], request({}, { method: 'POST' })), { allowed: false, policy: 'none' });
  // Two ALLOW policies: matching either one is enough.
  const posts = policy('ALLOW', [{ to: [{ methods: ['POST'] }] }], 'posts');
  assert.equal(authorize([getOnly, posts], request({}, { method: 'POST' })).allowed, true);
});

test('DENY wins over ALLOW and names the rule that matched', () => {
  const allowAll = policy('ALLOW', [{}], 'allow-all');
  const deny = policy('DENY', [{ to: [{ paths: ['/x'] }] }, { to: [{ paths: ['/admin*'] }] }], 'deny-admin');
  assert.deepEqual(authorize([allowAll, deny], request({}, { path: '/admin/x' })), { allowed: false, policy: 'ns[default]-policy[deny-admin]-rule[1]' });
  assert.equal(authorize([allowAll, deny], request({}, { path: '/ok' })).allowed, true);
});

test('CUSTOM without a provider Weft can call denies what its rules match, before DENY and ALLOW', () => {
  const custom: AuthorizationPolicy = { ...policy('CUSTOM', [{ to: [{ paths: ['/ext*'] }] }], 'ext'), provider: 'opa' };
  const decision = authorize([policy('ALLOW', [{}]), custom], request({}, { path: '/ext/a' }));
  assert.deepEqual(decision, { allowed: false, policy: 'istio-ext-authz-opa-ns[default]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action' });
  assert.equal(authorize([custom], request({}, { path: '/other' })).allowed, true);
});

test('CUSTOM with a provider to call: a matching rule asks it; a policy whose provider failed to resolve still denies', () => {
  const custom: AuthorizationPolicy = { ...policy('CUSTOM', [{ to: [{ paths: ['/ext*'] }] }], 'ext'), provider: 'opa' };
  assert.deepEqual(authorizeCustom([custom], request({}, { path: '/ext/a' }), true), { kind: 'check', policy: 'istio-ext-authz-opa-ns[default]-policy[ext]-rule[0]' });
  assert.deepEqual(authorizeCustom([custom], request({}, { path: '/other' }), true), { kind: 'none' });
  const bad = { ...custom, providerError: 'extension provider opa not found' };
  assert.deepEqual(authorizeCustom([bad], request({}, { path: '/ext/a' }), true), { kind: 'deny', policy: 'istio-ext-authz-opa-ns[default]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action' });
});

test('dry-run ALLOW and DENY policies decide nothing and report their shadow result', () => {
  const dryDeny = { ...policy('DENY', [{ to: [{ paths: ['/x'] }] }], 'dry-deny'), dryRun: true };
  const dryAllow = { ...policy('ALLOW', [{ to: [{ paths: ['/y'] }] }], 'dry-allow'), dryRun: true };
  assert.deepEqual(authorizeRbac([dryDeny, dryAllow], request({}, { path: '/x' })), {
    allowed: true,
    audited: undefined,
    shadow: [
      { action: 'deny', result: 'denied', policy: 'ns[default]-policy[dry-deny]-rule[0]' },
      { action: 'allow', result: 'denied', policy: '' },
    ],
  });
  assert.deepEqual(authorizeRbac([dryDeny, dryAllow], request({}, { path: '/y' })).shadow, [
    { action: 'deny', result: 'allowed', policy: '' },
    { action: 'allow', result: 'allowed', policy: 'ns[default]-policy[dry-allow]-rule[0]' },
  ]);
  // A dry-run ALLOW is not an ALLOW policy: the enforced ones alone decide whether default-deny applies.
  assert.equal(authorize([dryAllow], request({}, { path: '/z' })).allowed, true);
  // An enforced DENY still denies; the ALLOW filter (and its shadow) is never reached.
  const decision = authorizeRbac([dryDeny, dryAllow, policy('DENY', [{}], 'deny-all')], request({}, { path: '/x' }));
  assert.equal(decision.allowed, false);
  assert.deepEqual(decision.shadow?.map((r) => r.action), ['deny']);
});

test('AUDIT never changes the decision', () => {
  const audit = policy('AUDIT', [{}], 'audit');
  assert.deepEqual(authorize([audit], request()), { allowed: true, audited: 'ns[default]-policy[audit]-rule[0]' });
  assert.equal(authorize([audit, policy('DENY', [{}])], request()).allowed, false);
  assert.deepEqual(authorize([policy('AUDIT', [{ to: [{ paths: ['/a'] }] }])], request()), { allowed: true, audited: undefined });
});

test('TCP: ports and source fields apply; HTTP-only fields in a config match nothing', () => {
  const tcp = request({ http: undefined });
  assert.equal(denies({ to: [{ ports: [8080] }] }, tcp), true);
  assert.equal(denies({ from: [{ ipBlocks: ['10.0.0.0/8'] }], to: [{ ports: [8080] }] }, tcp), true);
  assert.equal(denies({ to: [{ methods: ['GET'] }] }, tcp), false);
  assert.equal(denies({ when: [{ key: 'request.headers', names: ['a'], values: ['*'] }] }, tcp), false);
});

test('an unknown or metadata condition key matches no value', () => {
  assert.equal(denies({ when: [{ key: 'experimental.envoy.filters.network.mysql_proxy', names: ['db.table'], values: ['[update]'] }] }, request()), false);
  assert.equal(denies({ when: [{ key: 'experimental.envoy.filters.network.mysql_proxy', names: ['db.table'], notValues: ['[update]'] }] }, request()), true);
});
