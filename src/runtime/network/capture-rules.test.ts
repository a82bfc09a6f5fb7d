/**
 * The capture rules as text (no root needed): Istio's chains and order, the proxy's own ports
 * and identity excluded, and each supported annotation doing what Istio documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureRules, CaptureAnnotationError, PROXY_PORTS, type CaptureOptions } from './capture-rules.js';
import { candidateSubnets, overlaps, pickSubnet, subnetOf } from './addresses.js';
import { serviceRules } from './services.js';
import { hostsFile, serviceNames, writePodResolvConf } from './hosts.js';

const base: CaptureOptions = { proxyUid: 1337, proxyGid: 1337, outboundPort: 15001, inboundPort: 15006, proxyPorts: PROXY_PORTS, annotations: {} };
const rules = (annotations: Record<string, string>) => (captureRules({ ...base, annotations }) ?? '').split('\n');

test('default capture: all inbound TCP but the proxy ports to 15006, all outbound TCP but the proxy and loopback to 15001', () => {
  const r = rules({});
  assert.equal(r[0], '*nat');
  assert.ok(r.includes('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001'));
  assert.ok(r.includes('-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006'));
  for (const p of [15000, 15001, 15006, 15020, 15021, 15090]) assert.ok(r.includes(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`), `inbound ${p} excluded`);
  // Exclusions come before the catch-all, which is last in each chain.
  const inbound = r.filter((l) => l.startsWith('-A ISTIO_INBOUND'));
  assert.equal(inbound.at(-1), '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
  const outbound = r.filter((l) => l.startsWith('-A ISTIO_OUTPUT'));
  assert.equal(outbound.at(-1), '-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  assert.ok(outbound.indexOf('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN') < outbound.length - 1);
  assert.ok(outbound.includes('-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN'));
  assert.ok(outbound.includes('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN'));
  // An app calling its own service: the inbound side's connections from 127.0.0.6 pass first; the
  // proxy's other connections over lo to the pod go back to 15006 (by uid, or by gid as Weft's
  // sidecar runs) before the app's own lo traffic returns.
  assert.equal(outbound[0], '-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
  const toInbound = (owner: string) => outbound.indexOf(`-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --${owner}-owner 1337 -j ISTIO_IN_REDIRECT`);
  const appLoopback = outbound.indexOf('-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN');
  assert.ok(toInbound('uid') > 0 && toInbound('gid') > 0 && toInbound('uid') < appLoopback && toInbound('gid') < appLoopback);
  assert.equal(r.at(-2), 'COMMIT');
});

test('annotations: ports and ranges included and excluded as Istio documents', () => {
  const r = rules({
    'traffic.sidecar.istio.io/excludeOutboundPorts': '3306, 5432',
    'traffic.sidecar.istio.io/includeOutboundPorts': '8443',
    'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/8,192.0.2.7',
    'traffic.sidecar.istio.io/excludeInboundPorts': '9999',
  });
  const out = r.filter((l) => l.startsWith('-A ISTIO_OUTPUT'));
  // Excluded ports return first, before even the loopback rules.
  assert.equal(out[0], '-A ISTIO_OUTPUT -p tcp --dport 3306 -j RETURN');
  assert.equal(out[1], '-A ISTIO_OUTPUT -p tcp --dport 5432 -j RETURN');
  // An included port is captured whatever the destination: before the excluded ranges.
  assert.ok(out.indexOf('-A ISTIO_OUTPUT -p tcp --dport 8443 -j ISTIO_REDIRECT') < out.indexOf('-A ISTIO_OUTPUT -d 10.0.0.0/8 -j RETURN'));
  assert.ok(out.includes('-A ISTIO_OUTPUT -d 192.0.2.7/32 -j RETURN'));
  assert.ok(r.includes('-A ISTIO_INBOUND -p tcp --dport 9999 -j RETURN'));

  const only = rules({ 'traffic.sidecar.istio.io/includeInboundPorts': '9080,15021', 'traffic.sidecar.istio.io/includeOutboundIPRanges': '10.96.0.0/12' });
  assert.deepEqual(only.filter((l) => l.startsWith('-A ISTIO_INBOUND')), ['-A ISTIO_INBOUND -p tcp --dport 9080 -j ISTIO_IN_REDIRECT']);
  assert.ok(only.includes('-A ISTIO_OUTPUT -d 10.96.0.0/12 -j ISTIO_REDIRECT'));
  assert.ok(!only.includes('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'));

  const noInbound = rules({ 'traffic.sidecar.istio.io/includeInboundPorts': '' });
  assert.ok(!noInbound.some((l) => l.startsWith('-A PREROUTING')));
  assert.equal(captureRules({ ...base, annotations: { 'sidecar.istio.io/interceptionMode': 'NONE' } }), undefined);
});

test('annotations Istio would refuse are refused, naming the annotation', () => {
  assert.throws(() => rules({ 'traffic.sidecar.istio.io/excludeOutboundPorts': '80,http' }), (e: Error) => e instanceof CaptureAnnotationError && /excludeOutboundPorts: "http" is not a port number/.test(e.message));
  assert.throws(() => rules({ 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '10.0.0.0/33' }), /excludeOutboundIPRanges: "10.0.0.0\/33" is not an IPv4 CIDR/);
  assert.throws(() => rules({ 'sidecar.istio.io/interceptionMode': 'TPROXY' }), /interceptionMode: "TPROXY" is not supported/);
});

test('pod subnets: derived from the mesh id, clear of the service range, moved on when the host uses them', () => {
  const first = candidateSubnets('a1b2c3').next().value as string;
  assert.equal(first, candidateSubnets('a1b2c3').next().value);
  assert.notEqual(first, candidateSubnets('d4e5f6').next().value);
  const seen = new Set<string>();
  let n = 0;
  for (const c of candidateSubnets('a1b2c3')) {
    assert.ok(!overlaps(c, '10.96.0.0/12') && overlaps(c, '10.128.0.0/9'), c);
    seen.add(c);
    if (++n === 2000) break;
  }
  assert.equal(seen.size, 2000);
  assert.notEqual(pickSubnet('a1b2c3', [first]).cidr, first);
  assert.equal(pickSubnet('a1b2c3', ['192.168.1.0/24']).cidr, first);
  assert.throws(() => subnetOf('10.1.2.0/16'), /expected a \/24/);
  assert.deepEqual(subnetOf('10.1.2.0/24'), { cidr: '10.1.2.0/24', gateway: '10.1.2.1', prefix: '10.1.2.' });
});

test('service VIP rules: one DNAT per endpoint with equal odds; hosts files with Kubernetes names', () => {
  const r = serviceRules('WEFT-x-SVC', [{ name: 'reviews.default', vip: '10.96.0.5', ports: [{ port: 9080, endpoints: [{ ip: '10.1.2.3', port: 9080 }, { ip: '10.1.2.4', port: 9080 }, { ip: '10.1.2.5', port: 9080 }] }] }]).split('\n');
  assert.equal(r[1], ':WEFT-x-SVC - [0:0]');
  assert.match(r[2] ?? '', /--probability 0\.3333333333 -j DNAT --to-destination 10\.1\.2\.3:9080$/);
  assert.match(r[3] ?? '', /--probability 0\.5000000000 -j DNAT --to-destination 10\.1\.2\.4:9080$/);
  assert.match(r[4] ?? '', /--comment reviews\.default -j DNAT --to-destination 10\.1\.2\.5:9080$/);
  const withReject = serviceRules('WEFT-x-SVC', [{ name: 'db.default', vip: '10.96.0.6', ports: [{ port: 5432, endpoints: [] }] }], 'WEFT-x-REJ').split('\n');
  assert.ok(!withReject.some((l) => l.includes('DNAT')));
  assert.deepEqual(withReject.slice(withReject.indexOf('*filter')), ['*filter', ':WEFT-x-REJ - [0:0]', '-A WEFT-x-REJ -d 10.96.0.6/32 -p tcp -m tcp --dport 5432 -m comment --comment db.default -j REJECT --reject-with tcp-reset', 'COMMIT', '']);
  assert.deepEqual(serviceNames('reviews', 'default'), ['reviews', 'reviews.default', 'reviews.default.svc', 'reviews.default.svc.cluster.local']);
  assert.match(hostsFile({ name: 'p', ip: '10.1.2.3' }, [{ ip: '10.96.0.5', names: ['reviews', 'reviews.default'] }]), /^10\.1\.2\.3\tp\n10\.96\.0\.5\treviews reviews\.default\n$/m);
});

test('a pod behind a loopback DNS stub (systemd-resolved) gets the stub\'s upstream servers; otherwise nothing is written', { skip: process.getuid?.() === 0 ? false : 'writes under /etc/netns: needs root' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-resolv-'));
  const ns = `weft-resolvtest-${process.pid}`;
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join('/etc/netns', ns), { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'stub'), 'nameserver 127.0.0.53\noptions edns0\n');
  writeFileSync(join(dir, 'upstream'), 'nameserver 192.0.2.53\n');
  writeFileSync(join(dir, 'plain'), 'nameserver 192.0.2.1\n');
  writePodResolvConf(ns, join(dir, 'plain'), join(dir, 'upstream'));
  assert.equal(existsSync(join('/etc/netns', ns, 'resolv.conf')), false);
  writePodResolvConf(ns, join(dir, 'stub'), join(dir, 'upstream'));
  assert.equal(readFileSync(join('/etc/netns', ns, 'resolv.conf'), 'utf8'), 'nameserver 192.0.2.53\n');
});
