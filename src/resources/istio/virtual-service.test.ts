import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { sharedPath } from '../../lib/repo.js';
import { loadResources, type LoadResult } from '../load.js';
import type { VirtualServiceSpec } from './virtual-service.js';

function load(yaml: string, file = 'vs.yaml'): LoadResult {
  return loadResources([{ file, text: yaml }]);
}

/** `line code path: message` for each diagnostic, without the catalog prefix, sorted. */
function problems(result: LoadResult): string[] {
  return result.diagnostics.map((d) => `${d.location?.line} ${d.code} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`).sort();
}

function spec(result: LoadResult, expected: string[] = []): VirtualServiceSpec {
  assert.deepEqual(problems(result), expected);
  const r = result.resources[0];
  assert.equal(r?.kind, 'VirtualService');
  return r.spec as VirtualServiceSpec;
}

/** A VirtualService with the given spec body (indented under `spec:`). */
function vs(body: string, name = 'reviews'): string {
  return `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n${body}`;
}

test('every seed and sample VirtualService loads without schema errors', () => {
  const files = [
    ...readdirSync(sharedPath('seed-configs')).map((f) => sharedPath('seed-configs', f)),
    ...readdirSync(sharedPath('istio-samples', 'bookinfo-networking')).map((f) => sharedPath('istio-samples', 'bookinfo-networking', f)),
  ];
  let count = 0;
  for (const file of files) {
    const result = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
    const mine = result.resources.filter((r) => r.kind === 'VirtualService');
    count += mine.length;
    const errors = result.diagnostics.filter((d) => d.origin?.kind === 'VirtualService' && d.level === 'Error');
    assert.deepEqual(errors, [], file);
  }
  assert.ok(count >= 12, `only ${count} VirtualServices found`);
});

test('the seed fault delay is typed: 7s is 7000 ms at 100%', () => {
  const file = sharedPath('seed-configs', '07-ratings-fault-delay.yaml');
  const s = spec(loadResources([{ file, text: readFileSync(file, 'utf8') }]));
  const delay = s.http?.[0]?.fault?.delay;
  assert.equal(delay?.fixedDelay, 7000);
  assert.deepEqual(delay?.percentage, { value: 100 });
  assert.deepEqual(s.http?.[0]?.match?.[0]?.headers, { 'end-user': { exact: 'jason' } });
});

test('the deprecated integer percent is normalised into percentage', () => {
  const delayFile = sharedPath('istio-samples', 'bookinfo-networking', 'virtual-service-ratings-test-delay.yaml');
  const delay = spec(loadResources([{ file: delayFile, text: readFileSync(delayFile, 'utf8') }])).http?.[0]?.fault?.delay;
  assert.deepEqual(delay?.percentage, { value: 100 });
  assert.equal(delay?.fixedDelay, 7000);

  const abortFile = sharedPath('istio-samples', 'bookinfo-networking', 'virtual-service-ratings-test-abort.yaml');
  // abort.percent is gone from Istio's current API but bookinfo's older sample still uses it.
  const abort = spec(loadResources([{ file: abortFile, text: readFileSync(abortFile, 'utf8') }])).http?.[0]?.fault?.abort;
  assert.deepEqual(abort?.percentage, { value: 100 });
  assert.equal(abort?.httpStatus, 500);

  // percentage wins over percent when both are written.
  const both = spec(load(vs(`  hosts: [ratings]
  http:
  - fault:
      delay: {fixedDelay: 1s, percent: 10, percentage: {value: 0.5}}
    route:
    - destination: {host: ratings}
`)));
  assert.deepEqual(both.http?.[0]?.fault?.delay?.percentage, { value: 0.5 });
});

test('a VirtualService using every field loads with typed values', () => {
  const s = spec(load(vs(`  hosts: [reviews.example.com, "*.reviews.example.org"]
  gateways: [istio-system/ingress, mesh]
  exportTo: [".", istio-system]
  http:
  - name: full
    match:
    - name: m1
      uri: {prefix: /api}
      scheme: {exact: https}
      method: {regex: "GET|HEAD"}
      authority: {prefix: reviews}
      headers: {x-user: {exact: jason}, x-any: {}}
      queryParams: {debug: {exact: ""}}
      withoutHeaders: {x-skip: {regex: "*"}}
      ignoreUriCase: true
      port: 8080
      sourceLabels: {app: productpage}
      gateways: [mesh]
      sourceNamespace: default
      statPrefix: api
    route:
    - destination: {host: reviews, subset: v1, port: {number: 9080}}
      weight: 90
      headers:
        request: {set: {x-route: v1}, add: {x-trace: "%REQ(x-request-id)%"}, remove: [x-internal]}
        response: {set: {cache-control: no-cache}}
    - destination: {host: reviews, subset: v2}
      weight: 10
    rewrite: {uri: /v1/api}
    timeout: 1.5s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,gateway-error,503", retryRemoteLocalities: true, retryIgnorePreviousHosts: null, backoff: 25ms}
    fault:
      delay: {fixedDelay: 100ms, percentage: {value: 0.1}}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 1}}
    mirrors:
    - destination: {host: reviews-shadow}
      percentage: {value: 5}
    mirrorPercentage: {value: 20}
    corsPolicy:
      allowOrigins: [{exact: "https://example.com"}, {regex: "https://.*\\\\.example\\\\.org"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-user, "*"]
      exposeHeaders: [x-trace]
      maxAge: 24h
      allowCredentials: false
      unmatchedPreflights: IGNORE
    headers:
      request: {set: {host: reviews.internal}}
  - match: [{uri: {prefix: /old}}]
    redirect: {uri: /new, authority: new.example.com, derivePort: FROM_REQUEST_PORT, scheme: https, redirectCode: 308}
  - match: [{uri: {exact: /health}}]
    directResponse: {status: 200, body: {bytes: "T0sK"}}
  - match: [{uri: {prefix: /legacy}}]
    redirect: {prefixRewrite: /modern, port: 8443}
  - match: [{uri: {prefix: /mirror}}]
    route: [{destination: {host: reviews}}]
    mirror: {host: reviews, subset: v3}
    mirror_percent: 30
    corsPolicy: {allowOrigin: ["https://a.example.com"]}
  - route: [{destination: {host: reviews}}]
    rewrite: {uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: "\\\\2/instance/\\\\1"}, authority: other}
  tls:
  - match:
    - sniHosts: [login.reviews.example.org]
      destinationSubnets: [10.0.0.0/8]
      port: 443
      sourceLabels: {app: gateway}
      gateways: [istio-system/ingress]
      sourceNamespace: istio-system
    route:
    - destination: {host: login}
  tcp:
  - match:
    - destinationSubnets: [192.168.0.1, "2001:db8::/32"]
      port: 3306
      sourceSubnet: 10.1.0.0/16
      sourceLabels: {app: db-client}
      gateways: [mesh]
      sourceNamespace: default
    route:
    - destination: {host: mysql, port: {number: 3306}}
      weight: 100
`)), ['64 IST0133 spec.http[4].mirror_percent: using deprecated setting "mirror_percent", use "mirrorPercentage" instead']);
  const full = s.http?.[0];
  assert.equal(full?.timeout, 1500);
  assert.deepEqual(full?.retries, { attempts: 3, perTryTimeout: 500, retryOn: '5xx,gateway-error,503', retryRemoteLocalities: true, backoff: 25 });
  assert.equal(full?.fault?.delay?.fixedDelay, 100);
  assert.equal(full?.corsPolicy?.maxAge, 86_400_000);
  assert.equal(full?.corsPolicy?.allowCredentials, false);
  assert.equal(full?.match?.[0]?.port, 8080);
  assert.deepEqual(full?.mirrorPercentage, { value: 20 });
  assert.equal(s.http?.[1]?.redirect?.derivePort, 'FROM_REQUEST_PORT');
  assert.deepEqual(s.http?.[2]?.directResponse?.body, { bytes: 'T0sK' });
  // Deprecated spellings folded into the current fields.
  assert.equal(s.http?.[4]?.mirror_percent, 30);
  assert.deepEqual(s.http?.[4]?.mirrorPercentage, { value: 30 });
  assert.deepEqual(s.http?.[4]?.corsPolicy?.allowOrigins, [{ exact: 'https://a.example.com' }]);
  assert.equal(s.tls?.[0]?.match[0]?.port, 443);
  assert.equal(s.tcp?.[0]?.route?.[0]?.destination.port?.number, 3306);
});

test('a VirtualService with no hosts is a delegate; root routes delegate only', () => {
  assert.deepEqual(problems(load(vs(`  http:
  - match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews}}]
`, 'delegate'))), []);
  assert.deepEqual(problems(load(vs(`  hosts: [bookinfo.example.com]
  gateways: [istio-system/ingress]
  http:
  - match: [{uri: {prefix: /reviews}}]
    delegate: {name: delegate, namespace: default}
    route: [{destination: {host: reviews}}]
`))), ['12 IST0106 spec.http[0].route: root HTTP route must not specify route']);
});

test('host rules follow the gateways the VirtualService is bound to', () => {
  // Through a gateway, "*" and IP addresses are fine; bound to sidecars, "*" is not.
  assert.deepEqual(problems(load(vs('  hosts: ["*.example.com", 10.0.0.1]\n  gateways: [ingress]\n  http:\n  - route: [{destination: {host: productpage}}]\n'))), []);
  assert.deepEqual(problems(load(vs('  hosts: ["*"]\n  gateways: [ingress, mesh]\n  http:\n  - route: [{destination: {host: productpage}}]\n'))),
    ['7 IST0106 spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway']);
  assert.deepEqual(problems(load(vs('  hosts: [bad_host.example.com]\n  http:\n  - route: [{destination: {host: "*"}}]\n'))), [
    '7 IST0106 spec.hosts[0]: domain name "bad_host.example.com" invalid (label "bad_host" invalid)',
    '9 IST0106 spec.http[0].route[0].destination.host: invalid destination host *',
  ]);
  // The legacy name.namespace gateway form is accepted with a warning.
  assert.deepEqual(problems(load(vs('  hosts: [a.example.com]\n  gateways: [ingress.istio-system]\n  http:\n  - route: [{destination: {host: a}}]\n'))),
    ['8 IST0133 spec.gateways[0]: using legacy gatewayName format "ingress.istio-system"; prefer the <namespace>/<name> format: "istio-system/ingress"']);
});

test('JWT claim routing is accepted on sidecars (Istio: gateways only) and on gateways', () => {
  const match = '  http:\n  - match: [{headers: {"@request.auth.claims.groups": {exact: admins}}, withoutHeaders: {"@request.auth.claims[a][b]": {}}}]\n    route: [{destination: {host: app}}]\n';
  assert.deepEqual(problems(load(vs(`  hosts: [app]\n${match}`))), []);
  assert.deepEqual(problems(load(vs(`  hosts: [app.example.com]\n  gateways: [istio-system/ingress]\n${match}`))), []);
});

test('string matches: empty uri prefix is allowed, withoutHeaders takes regex "*"', () => {
  assert.deepEqual(problems(load(vs(`  hosts: [a]
  http:
  - match: [{uri: {prefix: ""}, withoutHeaders: {x-debug: {regex: "*"}}}]
    route: [{destination: {host: a}}]
`))), []);
  assert.deepEqual(problems(load(vs(`  hosts: [a]
  http:
  - match: [{method: {prefix: ""}, queryParams: {v: {regex: ""}}, withoutHeaders: {x: {regex: "(a"}}}]
    route: [{destination: {host: a}}]
`))), [
    '9 IST0106 spec.http[0].match[0].method.prefix: "method": prefix string match should not be empty',
    '9 IST0106 spec.http[0].match[0].queryParams.v.regex: "queryParams": regex string match should not be empty',
    '9 IST0106 spec.http[0].match[0].withoutHeaders.x.regex: "withoutHeaders": error parsing regexp: missing closing ): `(a`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
  ]);
});

test('fault checks: unsupported abort kinds, gRPC codes, exponential delay', () => {
  const faults = (fault: string) => problems(load(vs(`  hosts: [a]\n  http:\n  - fault: ${fault}\n    route: [{destination: {host: a}}]\n`)));
  assert.deepEqual(faults('{abort: {http2Error: PROTOCOL_ERROR}}'), ['9 IST0106 spec.http[0].fault.abort.http2Error: HTTP/2 abort fault injection not supported yet']);
  assert.match(faults('{abort: {grpcStatus: BROKEN}}')[0] ?? '', /gRPC status "BROKEN" is not supported/);
  assert.deepEqual(faults('{abort: {percentage: {value: 10}}}'), ['9 IST0133 spec.http[0].fault.abort: abort configured, but error type not set']);
  assert.deepEqual(faults('{delay: {exponentialDelay: 1s}}'), ['9 IST0106 spec.http[0].fault.delay.exponentialDelay: exponentialDelay not supported yet']);
  assert.deepEqual(faults('{delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}'), ['9 IST0106 spec.http[0].fault.delay.percentage: percentage 0.00001 is neither 0.0, nor in range [0.0001, 100.0]']);
  assert.deepEqual(faults('{}'), ['9 IST0106 spec.http[0].fault: HTTP fault injection must have an abort and/or a delay']);
  assert.deepEqual(faults('{delay: {fixedDelay: 1s, percent: 101}}'), ['9 IST0106 spec.http[0].fault.delay.percent: percentage 101 is not in range 0..100']);
});

test('durations must be whole milliseconds of at least 1ms', () => {
  const r = problems(load(vs('  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n    timeout: 1500us\n')));
  assert.deepEqual(r, ['10 IST0106 spec.http[0].timeout: only durations to ms precision are supported']);
  const zero = problems(load(vs('  hosts: [a]\n  http:\n  - route: [{destination: {host: a}}]\n    retries: {attempts: 2, perTryTimeout: 0s}\n')));
  assert.deepEqual(zero, ['10 IST0106 spec.http[0].retries.perTryTimeout: duration "0s" must be at least 1ms']);
});

test('redirect, rewrite and authority checks', () => {
  const route = (body: string) => problems(load(vs(`  hosts: [a]\n  http:\n${body}`)));
  assert.deepEqual(route('  - match: [{uri: {exact: /a}}]\n    redirect: {prefixRewrite: /b}\n'),
    ['10 IST0106 spec.http[0].redirect.prefixRewrite: redirect prefixRewrite requires all URI matches to use prefix match type']);
  assert.deepEqual(route('  - redirect: {redirectCode: 301}\n'), ['9 IST0106 spec.http[0].redirect: redirect must specify URI, authority, scheme, or port']);
  assert.deepEqual(route('  - redirect: {port: 8080, derivePort: FROM_REQUEST_PORT}\n'),
    ['9 IST0106 spec.http[0].redirect.derivePort: only one of port, derivePort may be set (found port and derivePort)']);
  assert.deepEqual(route('  - route: [{destination: {host: a}}]\n    rewrite: {uriRegexRewrite: {match: "^/a"}}\n'),
    ['10 IST0106 spec.http[0].rewrite.uriRegexRewrite: UriRegexRewrite requires both Rewrite and Match fields to be specified']);
  assert.deepEqual(route('  - route: [{destination: {host: a}}]\n    rewrite: {authority: b}\n    headers: {request: {set: {":authority": c}}}\n'),
    ['11 IST0106 spec.http[0].headers.request.set[":authority"]: authority header cannot be set multiple times: have "b", attempting to set "c"']);
  assert.deepEqual(route('  - route: [{destination: {host: a}}]\n    mirror_percent: 101\n'),
    ['10 IST0106 spec.http[0].mirror_percent: mirrorPercent must have a max value of 100 (it has 101)']);
});

test('TLS and TCP routes: SNI hosts, subnets, ports', () => {
  // AUTO_PASSTHROUGH names are valid SNI hosts for a gateway-bound VirtualService.
  assert.deepEqual(problems(load(vs(`  hosts: ["*.global"]
  gateways: [istio-system/cross-network]
  tls:
  - match: [{sniHosts: ["outbound_.80_._.reviews.default.global"]}]
    route: [{destination: {host: reviews.default.svc.cluster.local}}]
`))), []);
  assert.deepEqual(problems(load(vs(`  hosts: [db]
  tcp:
  - match: [{destinationSubnets: [10.0.0.0/33], port: 70000, sourceSubnet: not-an-ip}]
  - match: [{port: 3306}]
    route: [{destination: {host: db}}]
`))), [
    '9 IST0106 spec.tcp[0].match[0].destinationSubnets[0]: 10.0.0.0/33 is not a valid CIDR block',
    '9 IST0106 spec.tcp[0].match[0].port: port number 70000 must be in the range 1..65535',
    '9 IST0106 spec.tcp[0].match[0].sourceSubnet: not-an-ip is not a valid IP',
    '9 IST0106 spec.tcp[0]: TCP route is required',
  ]);
  assert.deepEqual(problems(load(vs('  hosts: [a.example.com]\n  gateways: [gw]\n  tls:\n  - match: []\n    route: [{destination: {host: a}}]\n'))),
    ['10 IST0106 spec.tls[0].match: TLS route must have at least one match condition']);
  assert.deepEqual(problems(load(vs('  hosts: [a.example.com]\n  gateways: [gw]\n  tls:\n  - route: [{destination: {host: a}}]\n'))),
    ['10 IST0106 spec.tls[0].match: missing required field "match"']);
});

test('exportTo: no duplicates, "." and "*" rules', () => {
  assert.deepEqual(problems(load(vs('  hosts: [a]\n  exportTo: [".", default, "*", "~"]\n  http:\n  - route: [{destination: {host: a}}]\n'))), [
    '8 IST0106 spec.exportTo: cannot have both public (*) and non-public exportTo values for a resource',
    '8 IST0106 spec.exportTo[1]: duplicate entries in exportTo for entry default',
    '8 IST0106 spec.exportTo[3]: exportTo ~ (none) is not allowed for Istio configuration objects',
  ]);
});

test('unreachable rules: a duplicated match warns like Istio', () => {
  assert.deepEqual(problems(load(vs(`  hosts: [a]
  http:
  - name: first
    match: [{name: x, uri: {exact: /a}}]
    route: [{destination: {host: a}}]
  - name: second
    match: [{name: y, uri: {exact: /a}}]
    route: [{destination: {host: a}}]
`))), [
    '12 IST0130 spec.http[1]: VirtualService rule "second" not used (all matches used by prior rules).',
    '13 IST0131 spec.http[1].match[0]: VirtualService rule "second" match "y" is not used (duplicate/overlapping match in rule "first").',
  ]);
});
