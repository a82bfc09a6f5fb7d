import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedPath } from '../../lib/repo.js';
import { loadResources, type LoadResult } from '../load.js';
import { gatewayProtocol, type GatewaySpec } from './gateway.js';

function load(yaml: string): LoadResult {
  return loadResources([{ file: 'gw.yaml', text: yaml }]);
}

function problems(result: LoadResult): string[] {
  return result.diagnostics.map((d) => `${d.location?.line} ${d.code} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`).sort();
}

/** A Gateway with one server whose fields (port excluded) are given, indented under the server. */
function gateway(serverBody: string, protocol = 'HTTPS', number = 443): string {
  return `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  servers:
  - port: {number: ${number}, name: p, protocol: ${protocol}}
    hosts: ["*.example.com"]
${serverBody}`;
}

test('the seed HTTPS Gateway without a tls block is rejected at spec.servers[0], with its line', () => {
  const file = sharedPath('seed-configs', '03-gateway-https.yaml');
  const result = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
  assert.equal(result.ok, false);
  assert.equal(result.diagnostics.length, 1);
  const d = result.diagnostics[0];
  assert.equal(d?.code, 'IST0106');
  assert.equal(d?.level, 'Error');
  assert.equal(d?.location?.path, 'spec.servers[0]');
  assert.equal(d?.location?.line, 12);
  assert.match(d?.message ?? '', /server must have TLS settings for HTTPS\/TLS protocols/);
});

test('the bookinfo Gateway loads with typed values', () => {
  const file = sharedPath('istio-samples', 'bookinfo-networking', 'bookinfo-gateway.yaml');
  const result = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
  assert.deepEqual(result.diagnostics, []);
  const gw = result.resources.find((r) => r.kind === 'Gateway');
  const spec = gw?.spec as GatewaySpec;
  assert.deepEqual(spec.selector, { istio: 'ingressgateway' });
  assert.deepEqual(spec.servers?.[0]?.port, { number: 80, name: 'http', protocol: 'HTTP' });
  assert.deepEqual(spec.servers?.[0]?.hosts, ['*']);
});

test('a Gateway using every field loads', () => {
  const result = load(`apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: everything
  namespace: istio-system
spec:
  selector: {istio: ingressgateway}
  servers:
  - name: web
    port: {number: 80, name: http, protocol: HTTP}
    bind: 0.0.0.0
    hosts: ["*/bookinfo.example.com", "./admin.example.com", "prod/*"]
    tls: {httpsRedirect: true}
    defaultEndpoint: 127.0.0.1:8080
  - name: secure
    port: {number: 443, name: https, protocol: https}
    hosts: [bookinfo.example.com, 10.0.0.1]
    tls:
      mode: SIMPLE
      credentialName: bookinfo-cert
      minProtocolVersion: TLSV1_2
      maxProtocolVersion: TLSV1_3
      cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384, "-AES128-SHA"]
  - port: {number: 8443, name: mtls, protocol: HTTPS}
    hosts: [mtls.example.com]
    tls:
      mode: MUTUAL
      serverCertificate: /etc/certs/cert.pem
      privateKey: /etc/certs/key.pem
      caCertificates: /etc/certs/ca.pem
      caCrl: /etc/certs/crl.pem
      subjectAltNames: [spiffe://cluster.local/ns/default/sa/client]
      verifyCertificateSpki: [abc=]
      verifyCertificateHash: ["AB:CD"]
      insecureSkipVerify: null
  - port: {number: 9443, name: multi, protocol: HTTPS}
    hosts: [multi.example.com]
    tls:
      mode: OPTIONAL_MUTUAL
      credentialNames: [rsa-cert, ecdsa-cert]
      caCertCredentialName: client-ca
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.local"]
    tls: {mode: AUTO_PASSTHROUGH}
  - port: {number: 15012, name: tls-istiod, protocol: TLS}
    hosts: ["*"]
    tls: {mode: ISTIO_MUTUAL}
  - port: {number: 0, name: uds, protocol: HTTP}
    bind: unix:///var/run/gw.sock
    hosts: ["*"]
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]
`);
  assert.deepEqual(problems(result), []);
  const spec = result.resources[0]?.spec as GatewaySpec;
  assert.equal(spec.servers?.length, 8);
  assert.equal(spec.servers?.[1]?.tls?.mode, 'SIMPLE');
  assert.equal(spec.servers?.[2]?.tls?.insecureSkipVerify, undefined);
  assert.deepEqual(spec.servers?.[3]?.tls?.credentialNames, ['rsa-cert', 'ecdsa-cert']);
});

test('TLS settings: certificates by mode', () => {
  assert.deepEqual(problems(load(gateway('    tls: {mode: MUTUAL, serverCertificate: c.pem, privateKey: k.pem}\n'))),
    ['9 IST0106 spec.servers[0].tls: MUTUAL TLS requires a client CA bundle (caCertificates)']);
  assert.deepEqual(problems(load(gateway('    tls: {mode: SIMPLE, credentialName: a, serverCertificate: c.pem, privateKey: k.pem}\n'))),
    ['9 IST0106 spec.servers[0].tls: only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates should be specified']);
  assert.deepEqual(problems(load(gateway('    tls: {mode: SIMPLE, credentialName: a, credentialNames: [b]}\n'))),
    ['9 IST0106 spec.servers[0].tls.credentialNames: only one of credentialName or credentialNames can be set']);
  assert.deepEqual(problems(load(gateway('    tls: {mode: SIMPLE, tlsCertificates: [{serverCertificate: c.pem}]}\n'))),
    ['9 IST0106 spec.servers[0].tls.tlsCertificates[0]: SIMPLE TLS requires a private key']);
  assert.deepEqual(problems(load(gateway('    tls: {mode: SIMPLE, serverCertificate: c.pem, privateKey: k.pem, caCrl: crl.pem}\n'))),
    ['9 IST0106 spec.servers[0].tls.caCrl: CRL is not supported with SIMPLE TLS']);
  assert.deepEqual(problems(load(gateway('    tls: {mode: PASSTHROUGH, credentialName: a}\n', 'TLS'))),
    ['9 IST0133 spec.servers[0].tls: PASSTHROUGH mode does not use certificates, they will be ignored']);
  assert.deepEqual(problems(load(gateway('    tls: {mode: SIMPLE, credentialName: a, minProtocolVersion: TLSV1_1, cipherSuites: [NOT-A-CIPHER, AES128-SHA, AES128-SHA]}\n'))),
    [
      '9 IST0133 spec.servers[0].tls.cipherSuites: ignoring duplicate cipher suites: [AES128-SHA]',
      '9 IST0133 spec.servers[0].tls.cipherSuites: ignoring invalid cipher suites: [NOT-A-CIPHER]',
    ]);
  assert.deepEqual(problems(load(gateway('    tls: {mode: SIMPLE, credentialName: a, minProtocolVersion: TLSV1_0}\n'))),
    ['9 IST0133 spec.servers[0].tls.minProtocolVersion: TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.']);
});

test('TLS on non-TLS ports and httpsRedirect', () => {
  assert.deepEqual(problems(load(gateway('    tls: {httpsRedirect: true}\n', 'HTTP', 80))), []);
  assert.deepEqual(problems(load(gateway('    tls: {httpsRedirect: true}\n', 'TCP', 31400))), [
    '9 IST0106 spec.servers[0].tls: server cannot have TLS settings for non HTTPS/TLS ports',
    '9 IST0133 spec.servers[0].tls.httpsRedirect: tls.httpsRedirect should only be used with http servers',
  ]);
});

test('ports, binds and server names', () => {
  assert.deepEqual(problems(load(gateway('    bind: 10.0.0.300\n', 'HTTP', 80))), ['9 IST0106 spec.servers[0].bind: 10.0.0.300 is not a valid IP']);
  assert.deepEqual(problems(load(gateway('    bind: unix://relative.sock\n', 'HTTP', 80))), [
    '7 IST0106 spec.servers[0].port.number: port number must be 0 for unix domain socket: 80',
    '9 IST0106 spec.servers[0].bind: relative.sock is not an absolute path to a file',
  ]);
  assert.deepEqual(problems(load(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  servers:
  - {name: web, port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}, hosts: ["*"]}
  - {name: web, port: {number: 81, name: http2, protocol: HTTP2}, hosts: ["*"]}
`)), [
    '6 IST0106 spec.servers[0].port.targetPort: targetPort has no impact on Gateways',
    '7 IST0106 spec.servers[1].name: server names must be unique: duplicate name web',
  ]);
  // Port problems stop the TLS-block check, as in Istio.
  assert.deepEqual(problems(load(gateway('', 'HTTPS', 0))), ['7 IST0106 spec.servers[0].port.number: port number 0 must be in the range 1..65535']);
});

test('gatewayProtocol follows Istio protocol.Parse (case-insensitive)', () => {
  assert.equal(gatewayProtocol('https'), 'HTTPS');
  assert.equal(gatewayProtocol('GRPC-WEB'), 'GRPC-Web');
  assert.equal(gatewayProtocol('h2c'), undefined);
});
