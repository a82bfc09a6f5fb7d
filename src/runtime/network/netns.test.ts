/**
 * The netns provider on the real kernel (root only): pods in their own namespaces reach each
 * other over the mesh's bridge, resolve service names from their hosts file, reach a service VIP
 * without a sidecar (DNAT on the host, hairpin included), and leave nothing behind: teardown and
 * a crashed run's cleanup remove every namespace, interface, rule and file of their mesh, and
 * nothing of another mesh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { NetnsNetwork, listMeshNetwork } from './provider.js';
import { serviceNames } from './hosts.js';
import { nodeScript, runIn, skipReason, startIn, testMeshId } from './test-pods.js';

const skip = await skipReason();

const HTTP_APP = `require('http').createServer((q, s) => s.end(JSON.stringify({ app: process.env.APP, remote: q.socket.remoteAddress }))).listen(9080, '0.0.0.0', () => console.log('listening'))`;
const GET = (url: string) => `require('http').get(${JSON.stringify(url)}, { timeout: 5000 }, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(b)); }).on('timeout', () => { console.error('timed out'); process.exit(1); }).on('error', (e) => { console.error(e.message); process.exit(1); })`;
const LOOKUP = (names: string[]) => `Promise.all(${JSON.stringify(names)}.map((n) => require('dns').promises.lookup(n, 4).then((a) => a.address))).then((a) => console.log(a.join(' ')))`;

function empty(r: Awaited<ReturnType<typeof listMeshNetwork>>): boolean {
  return r.netns.length + r.links.length + r.rules.length + r.hostsDirs.length === 0;
}

test('pods: own namespace and address, names from the hosts file, VIPs without a sidecar; teardown leaves nothing', { skip }, async (t) => {
  const id = testMeshId();
  const net = new NetnsNetwork(id);
  t.after(() => net.teardown());
  await net.setup();
  const client = await net.createPod({ name: 'client', namespace: 'default', injected: false });
  const server = await net.createPod({ name: 'server-1', namespace: 'default', injected: false });
  assert.notEqual(client.ip, server.ip);
  assert.ok(client.ip.startsWith(net.subnet.prefix) && server.ip.startsWith(net.subnet.prefix));
  assert.match(server.netns, new RegExp(`^weft-${id}-\\d+$`));
  const [cmd, args] = nodeScript(HTTP_APP);
  const app = await startIn(server, cmd, args, 'listening');
  t.after(() => app.kill('SIGKILL'));

  // Plain connectivity, pod to pod, and the pod sees the client's own address.
  const direct = JSON.parse(await runIn(client, ...nodeScript(GET(`http://${server.ip}:9080/`)))) as { remote: string };
  assert.equal(direct.remote, client.ip);
  // The pod's own name resolves to its own address (like the kubelet's /etc/hosts).
  assert.equal((await runIn(server, ...nodeScript(LOOKUP(['server-1'])))).trim(), server.ip);

  // Names written after the pods started reach them (the file is rewritten in place), and a
  // VIP works without a sidecar: DNAT on the host to a ready endpoint, also from the endpoint
  // itself (hairpin).
  const vip = '10.96.213.7';
  net.writeHosts([{ ip: vip, names: serviceNames('server', 'default') }]);
  await net.setServices([{ name: 'server.default', vip, ports: [{ port: 80, endpoints: [{ ip: server.ip, port: 9080 }] }, { port: 81, endpoints: [] }] }]);
  const resolved = (await runIn(client, ...nodeScript(LOOKUP(serviceNames('server', 'default'))))).trim().split(' ');
  assert.deepEqual(resolved, [vip, vip, vip, vip]);
  // Through a VIP without a sidecar the server sees the bridge's address (the hairpin masquerade),
  // as with kube-proxy's masquerading; pod-to-pod traffic keeps the client's address (above).
  assert.equal((JSON.parse(await runIn(client, ...nodeScript(GET('http://server.default.svc.cluster.local/')))) as { remote: string }).remote, net.subnet.gateway);
  assert.ok(JSON.parse(await runIn(server, ...nodeScript(GET('http://server/')))));
  // A VIP port with no ready endpoint is refused at once, as kube-proxy refuses it.
  const refused = runIn(client, ...nodeScript(`require('net').connect(81, '${vip}').on('error', (e) => { console.log(e.code); }).setTimeout(5000, () => { console.log('timeout'); process.exit(); })`));
  assert.equal((await refused).trim(), 'ECONNREFUSED');
  // curl, unmodified, from the client pod.
  assert.match(await runIn(client, 'curl', ['-sS', '--max-time', '5', 'http://server.default:80/']), /"remote"/);

  // A deleted pod is gone at once: namespace, veth and hosts file.
  await net.deletePod(client);
  const after = await listMeshNetwork(id);
  assert.ok(!after.netns.includes(client.netns));
  assert.ok(!after.links.includes(client.hostInterface));
  assert.ok(!existsSync(`/etc/netns/${client.netns}`));

  await net.teardown();
  assert.deepEqual(await listMeshNetwork(id), { netns: [], links: [], rules: [], hostsDirs: [] });
});

test('cleanupLeftovers removes a crashed run of its own mesh (killing what still runs there) and leaves another mesh alone', { skip }, async (t) => {
  const crashedId = testMeshId();
  const otherId = testMeshId();
  const crashed = new NetnsNetwork(crashedId);
  const other = new NetnsNetwork(otherId);
  t.after(async () => {
    await crashed.teardown();
    await other.teardown();
  });
  await crashed.setup();
  await other.setup();
  assert.notEqual(crashed.subnet.cidr, other.subnet.cidr);
  const orphanPod = await crashed.createPod({ name: 'orphan', namespace: 'default', injected: true });
  await net2Pod(other);
  const orphan = await startIn(orphanPod, ...nodeScript(`console.log('up'); setInterval(() => {}, 1000)`), 'up');
  const orphanExit = new Promise((r) => orphan.once('exit', r));
  await crashed.setServices([{ name: 'x.default', vip: '10.96.0.9', ports: [{ port: 80, endpoints: [{ ip: orphanPod.ip, port: 80 }] }] }]);
  const before = await listMeshNetwork(otherId);
  assert.ok(!empty(before));
  assert.ok(before.rules.some((r) => r.includes(`WEFT-${otherId}-FWD`)));

  // The daemon "crashed": a new run of the same mesh knows nothing, and cleans up by name.
  await new NetnsNetwork(crashedId).cleanupLeftovers();
  assert.deepEqual(await listMeshNetwork(crashedId), { netns: [], links: [], rules: [], hostsDirs: [] });
  await orphanExit; // the orphaned app was killed, not left holding the address
  assert.deepEqual(await listMeshNetwork(otherId), before);
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1');
});

async function net2Pod(net: NetnsNetwork): Promise<void> {
  await net.createPod({ name: 'bystander', namespace: 'default', injected: false });
}
