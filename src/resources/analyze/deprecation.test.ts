import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../../lib/diagnostic.js';
import { repoPath, sharedPath } from '../../lib/repo.js';
import { loadResources } from '../load.js';
import { analyzeResources } from './index.js';
import { deprecationAnalyzer } from './deprecation.js';
import { sidecarSelectorAnalyzer } from './sidecar-selectors.js';
import { authorizationPolicyAnalyzer } from './authorization-policies.js';
import { destinationRuleCaAnalyzer } from './destination-rule-ca.js';
import { destinationRuleHostAnalyzer } from './destination-rule-hosts.js';
import { serviceEntryAddressesAnalyzer } from './service-entry-addresses.js';
import { serviceEntryProtocolAnalyzer } from './service-entry-protocols.js';
import { telemetryAnalyzer } from './telemetry-selectors.js';
import { analyzeYaml } from './test-helpers.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [deprecationAnalyzer]);
const found = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.location?.path}: ${d.message}`);

// Modelled on Istio's testdata/deprecation.yaml (its EnvoyFilter and QuotaSpec are not Weft kinds).
test('deprecation: the fields Istio checks (deprecation.yaml)', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productpage
  namespace: foo
spec:
  hosts: [productpage]
  http:
  - fault:
      delay:
        percent: 50
        fixedDelay: 5s
    route: [{destination: {host: productpage}}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: no-selector
  namespace: default
spec:
  egress:
  - hosts: ["./*"]
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy:
      host: example
      port: {number: 9080}
`;
  const ds = run(yaml);
  assert.deepEqual(ds.map((d) => [d.code, d.level, `${d.origin?.kind} ${d.origin?.namespace}/${d.origin?.name}`, d.location?.line]), [
    ['IST0002', 'Warning', 'VirtualService foo/productpage', 11],
    ['IST0002', 'Warning', 'Sidecar default/no-selector', 26],
  ]);
  assert.deepEqual(found(ds), [
    'spec.http[0].fault.delay.percent: Deprecated: HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage',
    'spec.outboundTrafficPolicy.egressProxy: Deprecated: OutboundTrafficPolicy.EgressProxy ignored',
  ]);
});

test('deprecation: the other deprecated VirtualService spellings Weft accepts', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
  - match: [{uri: {prefix: /a}}]
    fault: {abort: {percent: 10, httpStatus: 503}}
    mirror: {host: shadow}
    mirrorPercent: 20
    corsPolicy: {allowOrigin: ["https://a.example.com"]}
    route: [{destination: {host: web}}]
  - mirror: {host: shadow}
    mirror_percent: 5
    route: [{destination: {host: web}}]
`;
  assert.deepEqual(found(run(yaml)), [
    'spec.http[0].fault.abort.percent: Deprecated: HTTPRoute.fault.abort.percent is deprecated; use HTTPRoute.fault.abort.percentage',
    'spec.http[0].mirrorPercent: Deprecated: HTTPRoute.mirror_percent is deprecated; use HTTPRoute.mirror_percentage',
    'spec.http[0].corsPolicy.allowOrigin: Deprecated: CorsPolicy.allow_origin is deprecated; use CorsPolicy.allow_origins',
    'spec.http[1].mirror_percent: Deprecated: HTTPRoute.mirror_percent is deprecated; use HTTPRoute.mirror_percentage',
  ]);
});

test('deprecation: DestinationRule load balancer and outlier detection spellings, at every policy level', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_CONN}
    portLevelSettings:
    - port: {number: 9080}
      outlierDetection: {consecutiveErrors: 5}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpHeaderName: x-user, minimumRingSize: 1024}}
`;
  assert.deepEqual(found(run(yaml)), [
    'spec.trafficPolicy.loadBalancer.simple: Deprecated: LoadBalancerSettings.LEAST_CONN is deprecated; use LoadBalancerSettings.LEAST_REQUEST',
    'spec.trafficPolicy.portLevelSettings[0].outlierDetection.consecutiveErrors: Deprecated: OutlierDetection.consecutive_errors is deprecated; use OutlierDetection.consecutive_gateway_errors or OutlierDetection.consecutive_5xx_errors',
    'spec.subsets[0].trafficPolicy.loadBalancer.consistentHash.minimumRingSize: Deprecated: LoadBalancerSettings.ConsistentHashLB.minimum_ring_size is deprecated; use LoadBalancerSettings.ConsistentHashLB.ring_hash',
  ]);
});

test('deprecation: deprecated meshConfig fields in an IstioOperator', () => {
  const yaml = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: mesh, namespace: istio-system}
spec:
  meshConfig:
    defaultConfig:
      zipkinAddress: zipkin.istio-system:9411
    extensionProviders:
    - name: ls
      lightstep: {service: lightstep.example.com, port: 443, accessToken: token}
`;
  assert.deepEqual(found(run(yaml)), [
    'spec.meshConfig.defaultConfig.zipkinAddress: Deprecated: ProxyConfig.zipkin_address is deprecated; use ProxyConfig.tracing',
    'spec.meshConfig.extensionProviders[0].lightstep: Deprecated: MeshConfig.ExtensionProvider.lightstep is deprecated; use MeshConfig.ExtensionProvider.opentelemetry',
  ]);
});

test('deprecation: current spellings, and a zero deprecated percent (unset to Istio), are clean', () => {
  const yaml = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings}
spec:
  hosts: [ratings]
  http:
  - fault:
      delay: {percent: 0, percentage: {value: 10}, fixedDelay: 1s}
      abort: {percentage: {value: 5}, httpStatus: 500}
    mirror: {host: shadow}
    mirrorPercentage: {value: 50}
    corsPolicy: {allowOrigins: [{exact: "https://a.example.com"}]}
    route: [{destination: {host: ratings}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    outlierDetection: {consecutive5xxErrors: 5}
`;
  assert.deepEqual(run(yaml), []);
});

test("deprecation: bookinfo's delay and abort samples point at their percent", () => {
  for (const [name, kind] of [['virtual-service-ratings-test-delay.yaml', 'delay'], ['virtual-service-ratings-test-abort.yaml', 'abort']] as const) {
    const file = sharedPath('istio-samples', 'bookinfo-networking', name);
    const loaded = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
    const [d, ...rest] = analyzeResources(loaded.resources, { analyzers: [deprecationAnalyzer] });
    assert.equal(rest.length, 0);
    assert.equal(d?.code, 'IST0002');
    assert.deepEqual(d?.location && [d.location.file, d.location.line, d.location.path], [file, 15, `spec.http[0].fault.${kind}.percent`]);
  }
});

const MINE = [
  sidecarSelectorAnalyzer, authorizationPolicyAnalyzer, destinationRuleCaAnalyzer, destinationRuleHostAnalyzer,
  serviceEntryAddressesAnalyzer, serviceEntryProtocolAnalyzer, telemetryAnalyzer, deprecationAnalyzer,
];

function errorsFrom(files: string[]): string[] {
  const loaded = loadResources(files.map((file) => ({ file, text: readFileSync(file, 'utf8') })), { duplicates: 'last-wins' });
  return analyzeResources(loaded.resources, { analyzers: MINE }).filter((d) => d.level === 'Error').map(formatDiagnostic);
}

const yamlIn = (dir: string): string[] => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f));

test('the bookinfo samples with a bookinfo platform give no error from these analyzers', () => {
  const files = [...yamlIn(sharedPath('istio-samples', 'bookinfo-networking')), repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml')];
  assert.deepEqual(errorsFrom(files), []);
});

test("the seed's configs together give no error from these analyzers", () => {
  assert.deepEqual(errorsFrom(yamlIn(sharedPath('seed-configs'))), []);
});
