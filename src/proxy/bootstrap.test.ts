import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BOOTSTRAP, parseBootstrap, parsePortMap, portSpecs, withInboundBind } from './bootstrap.js';
import { ConfigSnapshot } from './snapshot.js';
import { httpListener, proxyConfig } from './test-config.js';

test("defaults are Istio's well-known ports", () => {
  assert.deepEqual(DEFAULT_BOOTSTRAP.ports, { outbound: 15001, inbound: 15006, admin: 15000, health: 15021, prometheus: 15090, status: 15020 });
  assert.equal(DEFAULT_BOOTSTRAP.maxHeaderBytes, 60 * 1024);
});

test('port maps read PORT=PORT lists and reject anything else', () => {
  assert.deepEqual([...parsePortMap('80=8080, 443=8443')], [[80, 8080], [443, 8443]]);
  assert.deepEqual([...parsePortMap('80=0')], [[80, 0]]);
  for (const bad of ['80', '80:8080', '0=1', '70000=1', '80=70000', 'a=b']) assert.throws(() => parsePortMap(bad), /invalid port mapping/, bad);
});

test('a bootstrap file overrides only what it names, and unknown fields are errors', () => {
  const b = parseBootstrap({ ports: { admin: 0 }, portMap: { '80': 8080 }, drainTimeoutMs: 100 });
  assert.deepEqual(b.ports, { ...DEFAULT_BOOTSTRAP.ports, admin: 0 });
  assert.equal(b.portMap.get(80), 8080);
  assert.equal(b.drainTimeoutMs, 100);
  assert.throws(() => parseBootstrap({ prots: {} }), /invalid bootstrap/);
});

test('sidecars bind the capture ports; gateways bind their listeners through the port map', () => {
  const config = proxyConfig({
    role: 'sidecar',
    listeners: [httpListener('0.0.0.0_9080', 'outbound', 9080, 'r'), httpListener('virtualInbound', 'inbound', 15006, 'r'), httpListener('0.0.0.0_80', 'gateway', 80, 'r')],
    routes: [{ name: 'r', virtualHosts: [] }],
    clusters: [],
    endpoints: [],
  });
  const snapshot = new ConfigSnapshot(config, new Date());
  const bootstrap = { ...DEFAULT_BOOTSTRAP, portMap: new Map([[80, 8080]]), inboundPortMap: new Map([[19080, 9080]]) };
  assert.deepEqual(
    portSpecs(bootstrap, snapshot).map((s) => [s.key, s.port, s.binding]),
    [
      ['outbound', 15001, { kind: 'outbound' }],
      ['inbound', 15006, { kind: 'inbound', destinationPort: undefined }],
      ['inbound-map:19080', 19080, { kind: 'inbound', destinationPort: 9080 }],
      ['gateway:80', 8080, { kind: 'gateway', port: 80 }],
    ],
  );
  const gateway = portSpecs({ ...bootstrap, role: 'ingress-gateway' }, snapshot).map((s) => s.key);
  assert.deepEqual(gateway, ['gateway:80']);
});

test('a Sidecar ingress listener of its own takes its port over from the inbound port map', () => {
  const config = proxyConfig({ role: 'sidecar', listeners: [httpListener('virtualInbound', 'inbound', 15006, 'r'), httpListener('0.0.0.0_7070', 'inbound', 7070, 'r')], routes: [{ name: 'r', virtualHosts: [] }], clusters: [], endpoints: [] });
  const specs = portSpecs({ ...DEFAULT_BOOTSTRAP, inboundPortMap: new Map([[7070, 7070], [9080, 9080]]) }, new ConfigSnapshot(config, new Date()));
  assert.deepEqual(specs.filter((s) => s.key !== 'outbound' && s.key !== 'inbound').map((s) => [s.key, s.port]), [['inbound-map:9080', 9080], ['inbound:7070', 7070]]);
});

test('under iptables capture inbound clusters connect from 127.0.0.6; without capture nothing is bound', () => {
  const clusters: { name: string; upstreamBindAddress?: string }[] = [{ name: 'inbound|9080||' }, { name: 'InboundPassthroughClusterIpv4' }, { name: 'outbound|9080||reviews.default.svc.cluster.local' }, { name: 'PassthroughCluster' }];
  assert.deepEqual(withInboundBind({ ...DEFAULT_BOOTSTRAP, interceptionMode: 'REDIRECT' }, clusters).map((c) => c.upstreamBindAddress), ['127.0.0.6', '127.0.0.6', undefined, undefined]);
  assert.deepEqual(withInboundBind(DEFAULT_BOOTSTRAP, clusters), clusters);
});
