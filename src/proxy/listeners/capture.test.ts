/**
 * Original destinations on the proxy side. Listener choice by original destination, as Envoy's
 * use_original_dst (exact VIP:port, then 0.0.0.0:port, then virtualOutbound). And the addon on
 * the real kernel (root only): in a scratch network namespace, a connection iptables redirected
 * reports where it was headed, one that was not reports the listener itself, and the cost of a
 * lookup is measured (printed, not asserted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Listener } from '../../proxy-config/index.js';
import { ConfigSnapshot } from '../snapshot.js';
import { cluster, httpListener, proxyConfig } from '../test-config.js';
import { listenerForOriginalDestination } from './capture.js';
import { originalDestinationProblem } from './original-dst.js';
import { DEFAULT_BOOTSTRAP, parseBootstrap, portSpecs } from '../bootstrap.js';

function tcp(name: string, address: string, port: number): Listener {
  return { name, direction: 'outbound', address, port, filterChains: [{ name, match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: name, weight: 1 }], statPrefix: name } }] };
}

test('a captured connection is served by the listener of its VIP:port, else of 0.0.0.0:port, else virtualOutbound', () => {
  const virtualOutbound: Listener = { name: 'virtualOutbound', direction: 'outbound', address: '0.0.0.0', port: 15001, filterChains: [] };
  const snapshot = new ConfigSnapshot(
    proxyConfig({ role: 'sidecar', listeners: [tcp('10.96.0.10_3306', '10.96.0.10', 3306), tcp('10.96.0.11_3306', '10.96.0.11', 3306), httpListener('0.0.0.0_9080', 'outbound', 9080, '9080'), virtualOutbound], routes: [], clusters: [cluster('x')], endpoints: [] }),
    new Date(),
  );
  assert.equal(listenerForOriginalDestination(snapshot, '10.96.0.11', 3306)?.name, '10.96.0.11_3306');
  assert.equal(listenerForOriginalDestination(snapshot, '10.96.0.10', 3306)?.name, '10.96.0.10_3306');
  assert.equal(listenerForOriginalDestination(snapshot, '10.96.0.99', 9080)?.name, '0.0.0.0_9080');
  // Another address on a port only VIP listeners use is not theirs: it passes through.
  assert.equal(listenerForOriginalDestination(snapshot, '192.0.2.1', 3306)?.name, 'virtualOutbound');
});

test('interception mode REDIRECT marks the capture ports; anything but REDIRECT or NONE is refused; the CLI says why it cannot capture', () => {
  const snapshot = new ConfigSnapshot(proxyConfig({ role: 'sidecar', listeners: [], routes: [], clusters: [], endpoints: [] }), new Date());
  const bindings = portSpecs({ ...DEFAULT_BOOTSTRAP, interceptionMode: 'REDIRECT' }, snapshot).map((s) => s.binding);
  assert.deepEqual(bindings, [{ kind: 'outbound', capture: true }, { kind: 'inbound', destinationPort: undefined, capture: true }]);
  assert.equal(parseBootstrap({ interceptionMode: 'REDIRECT' }).interceptionMode, 'REDIRECT');
  assert.throws(() => parseBootstrap({ interceptionMode: 'TPROXY' }), /interceptionMode/);
  // Without the addon the proxy refuses to start in REDIRECT mode rather than misroute traffic.
  const cli = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
  const r = spawnSync(process.execPath, [cli, 'proxy', '--config', '/nonexistent.json', '--interception-mode', 'REDIRECT'], { encoding: 'utf8', env: { ...process.env, WEFT_NATIVE_ADDON: '/nonexistent/weft_native.node' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--interception-mode REDIRECT cannot work here: .*(not built|Linux)/);
  const bad = spawnSync(process.execPath, [cli, 'proxy', '--config', '/nonexistent.json', '--interception-mode', 'TPROXY'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--interception-mode: expected REDIRECT or NONE/);
});

const root = process.getuid?.() === 0 && process.platform === 'linux';
const problem = root ? originalDestinationProblem() : undefined;
const skip = !root ? 'needs root on Linux (network namespace and iptables)' : problem !== undefined ? `addon unavailable: ${problem}` : false;

// Runs inside the namespace: a listener on 15001, one redirected and one direct connection.
const PROBE = (module: string) => `
import net from 'node:net';
import { originalDestination } from ${JSON.stringify(module)};
const results = [];
const server = net.createServer((s) => {
  results.push(originalDestination(s) ?? null);
  if (results.length === 1) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100000; i++) originalDestination(s);
    results.push(Number(process.hrtime.bigint() - t0) / 100000);
  }
  s.destroy();
  if (results.length === 3) { console.log(JSON.stringify(results)); process.exit(0); }
});
server.listen(15001, '0.0.0.0', () => {
  net.connect(80, '10.96.0.1').on('error', () => {}).on('close', () => net.connect(15001, '127.0.0.1').on('error', () => {}));
});
setTimeout(() => { console.error('timed out', JSON.stringify(results)); process.exit(1); }, 5000);
`;

test('the addon reads SO_ORIGINAL_DST of a redirected connection (and the listener itself otherwise)', { skip }, (t) => {
  const ns = `weft-odtest-${process.pid}`;
  const sh = (args: string[]) => spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
  t.after(() => sh(['ip', 'netns', 'del', ns]));
  for (const cmd of [
    ['ip', 'netns', 'add', ns],
    ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'],
    ['ip', '-n', ns, 'addr', 'add', '10.0.0.1/24', 'dev', 'd0'],
    ['ip', '-n', ns, 'link', 'set', 'd0', 'up'],
    ['ip', '-n', ns, 'route', 'add', 'default', 'dev', 'd0'],
    ['ip', 'netns', 'exec', ns, 'iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '10.96.0.1', '--dport', '80', '-j', 'REDIRECT', '--to-ports', '15001'],
  ]) {
    const r = sh(cmd);
    assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
  }
  const module = fileURLToPath(new URL('./original-dst.js', import.meta.url));
  const r = sh(['ip', 'netns', 'exec', ns, process.execPath, '--input-type=module', '-e', PROBE(module)]);
  assert.equal(r.status, 0, r.stderr);
  const [redirected, nsPerCall, direct] = JSON.parse(r.stdout) as [unknown, number, unknown];
  assert.deepEqual(redirected, { address: '10.96.0.1', port: 80 });
  assert.deepEqual(direct, { address: '127.0.0.1', port: 15001 });
  t.diagnostic(`originalDestination(): ${(nsPerCall / 1000).toFixed(2)} µs per call`);
});
