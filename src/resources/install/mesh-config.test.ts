import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources, type LoadResult } from '../load.js';
import { proxyAddressProblem } from './mesh-config-proxy.js';

function load(meshConfig: string): LoadResult {
  return loadResources([{ file: 'iop.yaml', text: `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: iop
  namespace: istio-system
spec:
  meshConfig:
${meshConfig}` }]);
}

function problems(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test('common meshConfig fields load with typed values', () => {
  const r = load(`    accessLogFile: /dev/stdout
    accessLogFormat: "[%START_TIME%] %REQ(:METHOD)%\\n"
    protocolDetectionTimeout: 0s
    tcpKeepalive: {probes: 3, time: 10s, interval: 5s}
    ingressClass: istio
    ingressService: istio-ingressgateway
    ingressSelector: ingressgateway
    trustDomainAliases: [old.local]
    inboundTrafficPolicy: {mode: LOCALHOST}
    h2UpgradePolicy: UPGRADE
    enablePrometheusMerge: true
    discoverySelectors: [{matchLabels: {istio-discovery: enabled}}]
    defaultServiceExportTo: ["."]
    defaultVirtualServiceExportTo: ["*"]
    defaultDestinationRuleExportTo: ["*"]
    localityLbSetting:
      enabled: true
      failover: [{from: us-east, to: us-west}]
    serviceSettings: [{settings: {clusterLocal: true}, hosts: ["*.cluster.local"]}]
    meshMTLS: {minProtocolVersion: TLSV1_3}
    tlsDefaults: {ecdhCurves: [X25519, P-256]}
`);
  assert.deepEqual(problems(r), []);
  const [iop] = r.resources;
  assert.ok(iop?.kind === 'IstioOperator');
  assert.deepEqual(iop.spec.meshConfig?.tcpKeepalive, { probes: 3, time: 10000, interval: 5000 });
  assert.equal(iop.spec.meshConfig?.protocolDetectionTimeout, 0);
});

test('unknown and removed fields are errors, as Istio parses meshConfig strictly', () => {
  assert.deepEqual(problems(load('    mixerCheckServer: istio-policy:9091\n')), ['8 Error spec.meshConfig.mixerCheckServer: unknown field "mixerCheckServer"']);
  assert.deepEqual(problems(load('    defaultConfig:\n      holdApplicationUntilProxyStart: true\n')), [
    '9 Error spec.meshConfig.defaultConfig.holdApplicationUntilProxyStart: unknown field "holdApplicationUntilProxyStart"',
  ]);
});

test('retry, TLS and provider checks from ValidateMeshConfig', () => {
  assert.deepEqual(problems(load('    defaultHttpRetryPolicy: {attempts: 2, retryOn: "5xx,sometimes"}\n')), [
    '8 Error spec.meshConfig.defaultHttpRetryPolicy.retryOn: "sometimes" is not a valid retryOn policy',
  ]);
  assert.deepEqual(problems(load('    meshMTLS: {ecdhCurves: [P-256]}\n    tlsDefaults: {ecdhCurves: [P-999]}\n')), [
    '8 Error spec.meshConfig.meshMTLS.ecdhCurves: mesh TLS does not support ECDH curves configuration',
    '9 Warning spec.meshConfig.tlsDefaults.ecdhCurves: detected unrecognized ECDH curves: [P-999]',
  ]);
  assert.deepEqual(problems(load('    extensionProviders:\n      - {name: a, zipkin: {service: z, port: 9411}}\n      - {name: a, prometheus: {}}\n    defaultProviders: {accessLogging: [envoy, b]}\n')), [
    '10 Warning spec.meshConfig.extensionProviders[1].name: extension provider name "a" is also used by extensionProviders[0]',
    '11 Warning spec.meshConfig.defaultProviders.accessLogging[1]: defaultProviders.accessLogging names "b", which is not an extension provider',
  ]);
  // Weft has no gRPC ext_authz client: said when the config loads, not found out per request.
  assert.deepEqual(problems(load('    extensionProviders:\n      - {name: opa, envoyExtAuthzGrpc: {service: opa.authz.svc.cluster.local, port: 9191}}\n')), [
    '9 Warning spec.meshConfig.extensionProviders[0].envoyExtAuthzGrpc: extension provider "opa": envoyExtAuthzGrpc is not supported by Weft; CUSTOM policies naming it deny the requests their rules match (use envoyExtAuthzHttp)',
  ]);
});

test('proxyAddressProblem accepts host:port with a DNS name or an IP', () => {
  assert.equal(proxyAddressProblem('istiod.istio-system.svc:15012'), undefined);
  assert.equal(proxyAddressProblem('10.0.0.1:9411'), undefined);
  assert.equal(proxyAddressProblem('[::1]:9411'), undefined);
  assert.equal(proxyAddressProblem('zipkin'), 'unable to split "zipkin": missing port in address');
  assert.equal(proxyAddressProblem('zipkin:http'), 'port (http) is not a number');
  assert.equal(proxyAddressProblem('Zipkin_Host:9411'), '"Zipkin_Host" is not a valid hostname or an IP address');
});
