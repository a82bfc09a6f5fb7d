import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadResources } from '../load.js';
import { repoPath } from '../../lib/repo.js';
import type { ResourceOf } from '../kinds.js';

function load(body: string, namespace = 'default') {
  const text = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: dr\n  namespace: ${namespace}\nspec:\n${body}`;
  return loadResources([{ file: 'dr.yaml', text }]);
}

function problems(body: string, namespace?: string): string[] {
  return load(body, namespace).diagnostics.map((d) => `${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

function spec(body: string): ResourceOf<'DestinationRule'>['spec'] {
  const result = load(body);
  assert.deepEqual(result.diagnostics, []);
  const r = result.resources[0];
  assert.ok(r && r.kind === 'DestinationRule');
  return r.spec;
}

test('every field of a DestinationRule loads, with durations in milliseconds', () => {
  const s = spec(`  host: reviews.default.svc.cluster.local
  exportTo: ["."]
  workloadSelector:
    matchLabels:
      app: productpage
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie:
          name: user
          path: /
          ttl: 0s
          attributes:
          - name: SameSite
            value: Strict
        ringHash:
          minimumRingSize: 1024
      localityLbSetting:
        enabled: true
        failover:
        - from: us-east
          to: us-west
      warmup:
        duration: 2m
        minimumPercent: 10
        aggression: 1.5
    connectionPool:
      tcp:
        maxConnections: 100
        connectTimeout: 30ms
        tcpKeepalive:
          probes: 3
          time: 7200s
          interval: 75s
        maxConnectionDuration: 1h
        idleTimeout: 0s
      http:
        http1MaxPendingRequests: 10
        http2MaxRequests: 1000
        maxRequestsPerConnection: 1
        maxRetries: 3
        idleTimeout: 1.5s
        h2UpgradePolicy: UPGRADE
        maxConcurrentStreams: 100
        http2KeepAlive:
          interval: 10s
          timeout: 3s
    outlierDetection:
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 2
      consecutiveGatewayErrors: 3
      consecutive5xxErrors: 7
      interval: 5m
      baseEjectionTime: 15m
      maxEjectionPercent: 50
      minHealthPercent: 20
      outlierDetectionHttpErrorCodes: [500, 503]
    tls:
      mode: SIMPLE
      caCertificates: /etc/certs/ca.pem
      subjectAltNames: [reviews.example.com]
      sni: reviews.example.com
      caCrl: /etc/certs/crl.pem
    portLevelSettings:
    - port:
        number: 9080
      loadBalancer:
        simple: LEAST_REQUEST
        warmupDurationSecs: 30s
    proxyProtocol: {}
    retryBudget:
      percent: 25
      minRetryConcurrency: 5
      budgetInterval: 0ms
  subsets:
  - name: v1
    labels:
      version: v1
    trafficPolicy:
      tls:
        mode: ISTIO_MUTUAL
  - name: V2
    labels:
      version: v2
`);
  assert.equal(s.host, 'reviews.default.svc.cluster.local');
  const tp = s.trafficPolicy;
  assert.equal(tp?.connectionPool?.tcp?.connectTimeout, 30);
  assert.equal(tp?.connectionPool?.tcp?.maxConnectionDuration, 3_600_000);
  assert.equal(tp?.connectionPool?.tcp?.idleTimeout, 0);
  assert.equal(tp?.connectionPool?.tcp?.tcpKeepalive?.time, 7_200_000);
  assert.equal(tp?.connectionPool?.http?.idleTimeout, 1500);
  assert.deepEqual(tp?.connectionPool?.http?.http2KeepAlive, { interval: 10_000, timeout: 3000 });
  assert.equal(tp?.outlierDetection?.interval, 300_000);
  assert.equal(tp?.outlierDetection?.baseEjectionTime, 900_000);
  assert.equal(tp?.loadBalancer?.consistentHash?.httpCookie?.ttl, 0);
  assert.equal(tp?.loadBalancer?.warmup?.duration, 120_000);
  assert.equal(tp?.portLevelSettings?.[0]?.loadBalancer?.warmupDurationSecs, 30_000);
  assert.equal(tp?.tls?.mode, 'SIMPLE');
  // Proto enum zero values are filled in for messages that are present.
  assert.equal(tp?.proxyProtocol?.version, 'V1');
  assert.equal(s.subsets?.[0]?.trafficPolicy?.tls?.mode, 'ISTIO_MUTUAL');
  // Istio's DNS labels accept upper case in subset names.
  assert.equal(s.subsets?.[1]?.name, 'V2');
});

test('the bookinfo DestinationRules load', () => {
  for (const name of ['destination-rule-all.yaml', 'destination-rule-all-mtls.yaml']) {
    const file = repoPath('..', 'shared', 'istio-samples', 'bookinfo-networking', name);
    const result = loadResources([{ file: name, text: readFileSync(file, 'utf8') }]);
    // Only this kind's diagnostics: an empty trailing document is the loader's business.
    assert.deepEqual(result.diagnostics.filter((d) => d.origin?.kind === 'DestinationRule'), [], name);
    assert.ok(result.resources.length >= 4);
  }
});

test('deprecated fields still load, with Istio\'s warnings', () => {
  const result = load(`  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpHeaderName: x-user
        minimumRingSize: 1024
    outlierDetection:
      consecutiveErrors: 5
`);
  assert.ok(result.ok);
  assert.equal(result.resources.length, 1);
  assert.deepEqual(result.diagnostics.map((d) => [d.code, d.level, d.location?.path]).sort(), [
    ['IST0133', 'Warning', 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize'],
    ['IST0133', 'Warning', 'spec.trafficPolicy.outlierDetection.consecutiveErrors'],
  ]);
});

test('schema errors carry the path and line of the field', () => {
  const result = load(`  host: reviews
  trafficPolicy:
    connectionPool:
      tcp:
        connectTimeout: 0.5ms
`);
  assert.equal(result.ok, false);
  const d = result.diagnostics[0];
  assert.equal(d?.code, 'IST0106');
  assert.equal(d?.location?.path, 'spec.trafficPolicy.connectionPool.tcp.connectTimeout');
  assert.equal(d?.location?.line, 11);
  assert.match(d?.message ?? '', /at least 1ms/);
});

test('Istio\'s semantic checks', () => {
  const cases: [string, string][] = [
    ['  host: "*.bad_host.com"\n', 'Error spec.host: domain name "*.bad_host.com" invalid (label "bad_host" invalid)'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      warmupDurationSecs: 10s\n      warmup:\n        duration: 10s\n',
      'Error spec.trafficPolicy.loadBalancer.warmup: only one of warmupDurationSecs or warmup can be set'],
    ['  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http:\n        h2UpgradePolicy: UPGRADE\n        useClientProtocol: true\n',
      'Error spec.trafficPolicy.connectionPool.http.useClientProtocol: use client protocol must not be true when H2UpgradePolicy is UPGRADE'],
    ['  host: reviews\n  trafficPolicy:\n    connectionPool:\n      http:\n        http2KeepAlive:\n          interval: 10s\n',
      'Error spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout: missing required field "timeout"'],
    ['  host: reviews\n  trafficPolicy:\n    connectionPool: {}\n', 'Error spec.trafficPolicy.connectionPool: connection pool must have at least one field'],
    ['  host: reviews\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: -1\n',
      'Error spec.trafficPolicy.connectionPool.tcp.maxConnections: max connections must be non-negative'],
    ['  host: reviews\n  trafficPolicy:\n    outlierDetection:\n      maxEjectionPercent: 150\n',
      'Error spec.trafficPolicy.outlierDetection.maxEjectionPercent: percentage 150 is not in range 0..100'],
    ['  host: reviews\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      insecureSkipVerify: true\n      caCertificates: /ca.pem\n',
      'Error spec.trafficPolicy.tls: cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true'],
    ['  host: reviews\n  trafficPolicy:\n    tls:\n      mode: MUTUAL\n      credentialName: client-cert\n      privateKey: /key.pem\n',
      'Error spec.trafficPolicy.tls: cannot specify client certificates or CA certificate or CA CRL If credentialName is set'],
    ['  host: reviews\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      credentialName: configmap://other/ca\n',
      'Error spec.trafficPolicy.tls.credentialName: invalid configmap:// credentialName: namespace must match the configuration namespace "default"'],
    ['  host: reviews\n  trafficPolicy:\n    tunnel:\n      protocol: GET\n      targetHost: proxy.example.com\n      targetPort: 8080\n',
      'Error spec.trafficPolicy.tunnel.protocol: tunnel protocol must be "CONNECT" or "POST"'],
    ['  host: reviews\n  trafficPolicy:\n    tunnel:\n      targetHost: proxy.example.com\n      targetPort: 8080\n    proxyProtocol:\n      version: V2\n',
      'Error spec.trafficPolicy: tunnel and proxyProtocol must not be set together'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        httpCookie:\n          name: c\n          attributes:\n          - name: a\n          - name: a\n',
      'Error spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name: duplicate cookie attribute name: a'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        httpHeaderName: x\n        useSourceIp: true\n',
      'Error spec.trafficPolicy.loadBalancer.consistentHash.useSourceIp: only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be set (found httpHeaderName and useSourceIp)'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover:\n        - from: us-east\n          to: us-east\n    outlierDetection: {consecutive5xxErrors: 1}\n',
      'Error spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]: locality lb failover settings must specify different regions'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: "us-east/*"\n          to: {"us-west/*": 50, "us-west/z1": 50}\n',
      'Error spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: locality us-west/z1 overlap with previous specified ones'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failoverPriority: [topology.istio.io/network]\n',
      'Warning spec.trafficPolicy.loadBalancer.localityLbSetting: outlier detection policy must be provided for failover'],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      zoneAwareLbSetting:\n        failoverPriority: [topology.kubernetes.io/zone]\n    outlierDetection: {consecutive5xxErrors: 1}\n',
      "Error spec.trafficPolicy.loadBalancer.zoneAwareLbSetting.failoverPriority[0]: 'failover_priority' for zone aware lb must not use topology label 'topology.kubernetes.io/zone'; region- and zone-level routing are handled automatically"],
    ['  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      warmup:\n        duration: 10s\n        aggression: 0\n',
      'Error spec.trafficPolicy.loadBalancer.warmup.aggression: aggression should be greater than 0'],
    ['  host: reviews\n  trafficPolicy:\n    outlierDetection:\n      outlierDetectionHttpErrorCodes: [99]\n',
      'Error spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes[0]: value must be at least 100, got number 99'],
    ['  host: reviews\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n',
      'Error spec.trafficPolicy.portLevelSettings[0]: port traffic policy must have at least one field'],
    ['  host: reviews\n  workloadSelector:\n    matchLabels: {app: a}\n  exportTo: ["*"]\n',
      'Error spec.exportTo: destination rule with workload selector cannot have exportTo beyond current namespace'],
    ['  host: reviews\n  exportTo: [".", "default"]\n', 'Error spec.exportTo[1]: duplicate entries in exportTo for entry default'],
    ['  host: reviews\n  exportTo: ["~"]\n', 'Error spec.exportTo[0]: exportTo ~ (none) is not allowed for Istio configuration objects'],
    ['  host: reviews\n  workloadSelector: {}\n', 'Warning spec.workloadSelector: workload selector specified without labels'],
    ['  host: reviews\n  subsets:\n  - name: v1\n    labels:\n      "ver sion": v1\n',
      'Error spec.subsets[0].labels["ver sion"]: invalid label key "ver sion": name must be 63 characters or less, alphanumeric, \'-\', \'_\' or \'.\''],
  ];
  for (const [body, expected] of cases) assert.deepEqual(problems(body), [expected], body);
});

test('a tcp idleTimeout of 0s disables it, but below 1ms is an error', () => {
  assert.deepEqual(problems('  host: reviews\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 0s\n'), []);
  assert.deepEqual(problems('  host: reviews\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        idleTimeout: 500us\n'),
    ['Error spec.trafficPolicy.connectionPool.tcp.idleTimeout: duration must be greater than 1ms']);
});

test('an exportTo of the own namespace is allowed with a workload selector', () => {
  assert.deepEqual(problems('  host: reviews\n  workloadSelector:\n    matchLabels: {app: a}\n  exportTo: ["."]\n', 'shop'), []);
});
