import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../../lib/repo.js';
import { loadResources, type LoadResult } from '../load.js';
import { parseQuantity } from './quantity.js';

function load(spec: string): LoadResult {
  return loadResources([{ file: 'iop.yaml', text: `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: iop
  namespace: istio-system
spec:
${spec}` }]);
}

function problems(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test("the seed's operator file loads with no diagnostics and typed values", () => {
  const file = sharedPath('seed-configs', '01-istio-operator.yaml');
  const r = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
  assert.deepEqual(problems(r), []);
  const [iop] = r.resources;
  assert.ok(iop?.kind === 'IstioOperator');
  assert.equal(iop.metadata.namespace, 'istio-system');
  const spec = iop.spec;
  assert.equal(spec.profile, 'default');
  assert.equal(spec.components?.base?.enabled, true);
  assert.equal(spec.components?.pilot?.enabled, true);
  assert.deepEqual(spec.components?.ingressGateways?.map((g) => [g.name, g.enabled, g.k8s?.replicaCount]), [['istio-ingressgateway', true, 2]]);
  assert.deepEqual(spec.components?.egressGateways?.map((g) => [g.name, g.enabled, g.k8s?.replicaCount]), [['istio-egressgateway', true, 2]]);
  const memory = spec.values?.global?.proxy?.resources?.limits?.memory;
  assert.equal(memory, '100Mi');
  assert.equal(parseQuantity(memory ?? 0), 100 * 2 ** 20);
  assert.equal(spec.values?.pilot?.replicaCount, 2);
});

test('a full spec with meshConfig, k8s settings and values loads', () => {
  const r = load(`  profile: demo
  hub: registry.example.com:5000/istio
  tag: 1.20.1
  revision: 1-20-1
  compatibilityVersion: "1.23"
  meshConfig:
    accessLogFile: /dev/stdout
    accessLogEncoding: JSON
    enableTracing: true
    enableAutoMtls: true
    rootNamespace: istio-system
    trustDomain: cluster.local
    outboundTrafficPolicy: {mode: REGISTRY_ONLY}
    pathNormalization: {normalization: MERGE_SLASHES}
    connectTimeout: 5s
    defaultConfig:
      holdApplicationUntilProxyStarts: true
      concurrency: 2
      drainDuration: 30s
      terminationDrainDuration: 10s
      proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}
      tracing:
        sampling: 100
        zipkin: {address: zipkin.istio-system:9411}
    extensionProviders:
      - name: otel
        opentelemetry: {service: otel.observability.svc.cluster.local, port: 4317}
      - name: prometheus
        prometheus: {}
    defaultProviders: {tracing: [otel], metrics: [prometheus]}
    defaultHttpRetryPolicy: {attempts: 3, retryOn: "5xx,connect-failure,503"}
  components:
    pilot:
      k8s:
        replicaCount: 3
        resources: {requests: {cpu: 500m, memory: 2Gi}, limits: {cpu: "2", memory: 4Gi}}
        env: [{name: PILOT_TRACE_SAMPLING, value: "100"}]
        hpaSpec: {minReplicas: 2, maxReplicas: 5}
        strategy: {rollingUpdate: {maxSurge: 100%, maxUnavailable: 25%}}
        podDisruptionBudget: {minAvailable: 1}
        affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: []}}
        tolerations: [{key: dedicated, operator: Equal, value: istio, effect: NoSchedule}]
        nodeSelector: {kubernetes.io/os: linux}
        overlays:
          - kind: Deployment
            name: istiod
            patches: [{path: spec.template.spec.hostNetwork, value: false}]
    ingressGateways:
      - name: istio-ingressgateway
        enabled: true
        label: {istio: ingressgateway}
        k8s:
          service:
            type: LoadBalancer
            ports:
              - {name: http2, port: 80, targetPort: 8080}
              - {name: https, port: 443, targetPort: 8443}
    egressGateways:
      - name: istio-egressgateway
        enabled: false
  values:
    global:
      proxy:
        holdApplicationUntilProxyStarts: true
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: null}}
        includeIPRanges: "10.0.0.0/8,172.16.0.0/12"
      logging: {level: "default:info"}
    pilot:
      traceSampling: 100
      autoscaleEnabled: false
      env: {PILOT_JWT_ENABLE_REMOTE_JWKS: true}
      keepaliveMaxServerConnectionAge: 30m
  unvalidatedValues:
    anything: {goes: [1, 2]}
`);
  assert.deepEqual(problems(r), []);
  const [iop] = r.resources;
  assert.ok(iop?.kind === 'IstioOperator');
  const spec = iop.spec;
  assert.equal(spec.meshConfig?.connectTimeout, 5000);
  assert.equal(spec.meshConfig?.defaultConfig?.drainDuration, 30000);
  assert.equal(spec.meshConfig?.defaultConfig?.holdApplicationUntilProxyStarts, true);
  assert.deepEqual(spec.meshConfig?.extensionProviders?.[1], { name: 'prometheus', prometheus: {} });
  assert.equal(spec.values?.pilot?.keepaliveMaxServerConnectionAge, 30 * 60_000);
  assert.equal(spec.tag, '1.20.1');
});

test('every profile name is accepted, and so is a profile file path', () => {
  for (const profile of ['default', 'demo', 'minimal', 'remote', 'empty', 'preview', 'ambient', 'stable', 'openshift', 'openshift-ambient', './my-profile.yaml']) {
    assert.deepEqual(problems(load(`  profile: ${profile}\n`)), [], profile);
  }
  assert.deepEqual(problems(load('  profile: prod\n')), [
    '7 Error spec.profile: unknown profile "prod"; use one of default, demo, minimal, remote, empty, preview, ambient, stable, openshift, openshift-ambient, or a path to a profile file',
  ]);
});

test('unknown fields are errors outside values, warnings inside values', () => {
  assert.deepEqual(problems(load('  components:\n    pilot:\n      replicas: 2\n')), ['9 Error spec.components.pilot.replicas: unknown field "replicas"']);
  const r = load('  values:\n    pilot:\n      replicaCont: 2\n    myChart: {x: 1}\n');
  assert.equal(r.ok, true);
  assert.deepEqual(problems(r), [
    '9 Warning spec.values.pilot.replicaCont: unknown Helm value "pilot.replicaCont": Istio passes it to the charts unchecked; check the spelling',
    '10 Warning spec.values.myChart: unknown Helm value "myChart": Istio passes it to the charts unchecked; check the spelling',
  ]);
  // Known values keep their types: a wrong type is still an error.
  assert.deepEqual(problems(load('  values:\n    pilot:\n      traceSampling: high\n')), ['9 Error spec.values.pilot.traceSampling: expected a number, got string "high"']);
});

test('Kubernetes quantities are validated in k8s settings and values', () => {
  assert.deepEqual(problems(load('  components:\n    pilot:\n      k8s:\n        resources:\n          limits: {memory: 1GB, cpus: 2}\n')), [
    `11 Error spec.components.pilot.k8s.resources.limits.memory: invalid quantity "1GB": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    '11 Error spec.components.pilot.k8s.resources.limits.cpus: unknown resource "cpus": use cpu, memory, ephemeral-storage, hugepages-<size> or a domain-qualified extended resource',
  ]);
});

test('a float tag is a warning: YAML already dropped its trailing zero', () => {
  assert.deepEqual(problems(load('  tag: 1.20\n')), [
    '7 Warning spec.tag: tag was read as the number 1.2; quote it (tag: "…") so YAML keeps it exactly as written, e.g. "1.20" rather than 1.2',
  ]);
});

test('autoscaling with a fixed replica count is a warning, as in istioctl', () => {
  assert.deepEqual(problems(load('  components:\n    pilot:\n      k8s: {replicaCount: 3}\n  values:\n    pilot: {autoscaleEnabled: true}\n')), [
    '9 Warning spec.components.pilot.k8s.replicaCount: components.pilot.k8s.replicaCount should not be set when values.pilot.autoscaleEnabled is true',
  ]);
});

test('values.global.proxy IP ranges and port lists are checked', () => {
  assert.deepEqual(problems(load('  values:\n    global:\n      proxy:\n        excludeIPRanges: "10.0.0.0/8,10.0.0.1"\n        excludeInboundPorts: "15020,abc"\n')), [
    '10 Error spec.values.global.proxy.excludeIPRanges: excludeIPRanges: "10.0.0.1" is not a CIDR range (address/bits)',
    '11 Error spec.values.global.proxy.excludeInboundPorts: excludeInboundPorts: "abc" is not a port number in 0..65535',
  ]);
});
