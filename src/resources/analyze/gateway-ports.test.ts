import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatDiagnostic, type Diagnostic } from '../../lib/diagnostic.js';
import { repoPath, sharedPath } from '../../lib/repo.js';
import { loadResources } from '../load.js';
import { readSources } from '../files.js';
import { analyzeResources } from './index.js';
import { analyzeYaml } from './test-helpers.js';
import { gatewayPortAnalyzer } from './gateway-ports.js';
import { conflictingGatewayAnalyzer } from './conflicting-gateways.js';
import { servicePortNameAnalyzer } from './service-port-names.js';
import { deploymentServiceAnalyzer } from './deployment-services.js';
import { applicationUidAnalyzer } from './application-uid.js';
import { injectionAnalyzer } from './injection.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [gatewayPortAnalyzer]);
const summary = (d: Diagnostic): string => `${d.code} ${d.level} ${d.location?.path} line ${d.location?.line}: ${d.message}`;

function gateway(name: string, selector: string, ports: number[], namespace = 'default'): string {
  const servers = ports.map((p) => `  - port: {number: ${p}, name: http-${p}, protocol: HTTP}\n    hosts: ["*"]\n`).join('');
  return `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n    ${selector}\n  servers:\n${servers}`;
}

function deployment(name: string, labels: string, namespace = 'default'): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector:\n    matchLabels: {${labels}}\n  template:\n    metadata:\n      labels: {${labels}}\n    spec:\n      containers:\n      - name: istio-proxy\n        image: proxy\n`;
}

function service(name: string, selector: string, ports: string, namespace = 'default'): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  selector: {${selector}}\n  ports:\n${ports}`;
}

test('a Gateway whose selector matches no gateway workload is IST0101 at the selector (gateway-no-workload)', () => {
  const diags = run('apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: httpbin-gateway\nspec:\n  selector:\n    istio: ingresstypo\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n');
  assert.deepEqual(diags.map(summary), ['IST0101 Error spec.selector.istio line 7: Referenced selector not found: "istio=ingresstypo"']);
  assert.deepEqual(diags[0]?.origin, { kind: 'Gateway', namespace: 'default', name: 'httpbin-gateway' });
});

test('a server port the implied ingress gateway Service does not expose is IST0162 (gateway-no-port)', () => {
  const diags = run(gateway('httpbin-gateway', 'istio: ingressgateway', [80, 8004]));
  assert.deepEqual(diags.map(summary), [
    'IST0162 Warning spec.servers[1].port.number line 12: The gateway is listening on a target port (port 8004) that is not defined in the Service associated with its workload instances (Pod selector istio=ingressgateway). If you need to access the gateway port through the gateway Service, it will not be available.',
  ]);
});

test('the implied ingress gateway exposes 80, 443 and their target ports (gateway-correct-port)', () => {
  assert.deepEqual(run(gateway('httpbin-gateway', 'istio: ingressgateway', [80, 443, 8080, 8443, 15021])).map(summary), []);
});

test('a custom gateway Deployment is matched through its Service port or targetPort (gateway-custom-ingressgateway*)', () => {
  const platform = `${deployment('my-ingressgateway', 'myapp: private-ingressgateway')}---\n${service('my-ingressgateway', 'myapp: private-ingressgateway', '  - {name: http2, port: 80, targetPort: 8003}\n')}`;
  // The targetPort (8003) and, as Istio's port translation, the Service port (80) are both fine.
  assert.deepEqual(run(`${gateway('httpbin-gateway', 'myapp: private-ingressgateway', [8003, 80])}---\n${platform}`).map(summary), []);
  const bad = run(`${gateway('httpbin-gateway', 'myapp: private-ingressgateway', [8004])}---\n${platform}`);
  assert.deepEqual(bad.map((d) => `${d.code} ${d.location?.path}`), ['IST0162 spec.servers[0].port.number']);
  assert.match(bad[0]?.message ?? '', /port 8004\).*Pod selector myapp=private-ingressgateway\)/);
});

test('without a targetPort only the Service port counts (gateway-custom-ingressgateway-badport-notarget)', () => {
  const yaml = `${gateway('httpbin-gateway', 'myapp: private-ingressgateway', [8004, 80])}---\n${deployment('gw', 'myapp: private-ingressgateway')}---\n${service('gw', 'myapp: private-ingressgateway', '  - {name: http2, port: 80}\n')}`;
  assert.deepEqual(run(yaml).map((d) => `${d.code} ${d.location?.path}`), ['IST0162 spec.servers[0].port.number']);
});

test('only Services that select the gateway pods count (gateway-custom-ingressgateway-svcselector)', () => {
  const yaml = [
    gateway('httpbin8001-gateway', 'myapp: ingressgateway-8001', [8001]),
    gateway('httpbin8002-gateway', 'myapp: ingressgateway-8001', [8002]),
    deployment('gw-8001', 'myapp: ingressgateway-8001'),
    deployment('gw-8002', 'myapp: ingressgateway-8002'),
    service('my-8002', 'myapp: ingressgateway-8002', '  - {name: http2, port: 8002, targetPort: 80}\n'),
    service('my-8001', 'myapp: ingressgateway-8001', '  - {name: http2, port: 8001}\n'),
  ].join('---\n');
  assert.deepEqual(run(yaml).map((d) => `${d.code} ${d.origin?.name} ${d.location?.path}`), ['IST0162 httpbin8002-gateway spec.servers[0].port.number']);
});

test('Services count only in the gateway pods\' namespace and only for TCP ports', () => {
  const yaml = [
    gateway('gw', 'app: edge', [8001, 8002, 8003], 'apps'),
    deployment('edge', 'app: edge', 'edge'),
    service('edge', 'app: edge', '  - {name: http, port: 8001}\n  - {name: udp, port: 8002, protocol: UDP}\n', 'edge'),
    service('elsewhere', 'app: edge', '  - {name: http, port: 8003}\n', 'apps'),
  ].join('---\n');
  // The selector finds the pods in another namespace than the Gateway's: Gateway selectors are mesh-wide.
  assert.deepEqual(run(yaml).map((d) => `${d.code} ${d.location?.path}`), ['IST0162 spec.servers[1].port.number', 'IST0162 spec.servers[2].port.number']);
});

test('gateways an IstioOperator does not install are not there to select', () => {
  const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: minimal\n  namespace: istio-system\nspec:\n  profile: minimal\n';
  const diags = run(`${operator}---\n${gateway('gw', 'istio: ingressgateway', [80])}`);
  assert.deepEqual(diags.map((d) => `${d.code} ${d.location?.path}`), ['IST0101 spec.selector.istio']);
  const egress = run(`${operator.replace('profile: minimal', 'profile: demo')}---\n${gateway('egress', 'istio: egressgateway', [80, 443])}`);
  assert.deepEqual(egress.map(summary), []);
});

test('Gateways in namespaces istioctl analyze ignores are not analyzed', () => {
  assert.deepEqual(run(gateway('gw', 'istio: nothing', [80], 'kube-system')).map(summary), []);
});

const MINE = [gatewayPortAnalyzer, conflictingGatewayAnalyzer, servicePortNameAnalyzer, deploymentServiceAnalyzer, applicationUidAnalyzer, injectionAnalyzer];

test('the bookinfo samples with the bookinfo platform give no error from these analyzers', () => {
  const sources = readSources([repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml'), sharedPath('istio-samples', 'bookinfo-networking')]);
  const loaded = loadResources(sources, { duplicates: 'last-wins' });
  const diags = analyzeResources(loaded.resources, { analyzers: MINE });
  assert.deepEqual(diags.filter((d) => d.level === 'Error').map(formatDiagnostic), []);
  assert.ok(loaded.resources.some((r) => r.kind === 'Gateway'));
});

test("the seed's configs give no error; its HTTPS Gateway (tls added) is served by the implied Service's 443", () => {
  const sources = readSources([sharedPath('seed-configs')]).map((s) =>
    s.file.endsWith('03-gateway-https.yaml') ? { ...s, text: `${readFileSync(s.file, 'utf8')}      tls:\n        mode: SIMPLE\n        credentialName: maildev-cert\n` } : s);
  const loaded = loadResources(sources, { duplicates: 'last-wins' });
  assert.ok(loaded.resources.some((r) => r.kind === 'Gateway' && r.metadata.name === 'default-gateway'));
  const diags = analyzeResources(loaded.resources, { analyzers: MINE });
  assert.deepEqual(diags.filter((d) => d.level === 'Error').map(formatDiagnostic), []);
  assert.deepEqual(diags.filter((d) => d.origin?.kind === 'Gateway').map(formatDiagnostic), []);
});
