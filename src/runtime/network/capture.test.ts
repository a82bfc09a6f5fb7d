/**
 * Transparent capture end to end (root only): two injected pods, each with a real `weft proxy
 * --interception-mode REDIRECT` started from a config file as uid 0 / gid 1337, and apps that know
 * nothing of the mesh. An unmodified `curl http://reviews:9080/` is captured to the client's
 * sidecar, routed by the original destination (the service VIP) and Host, captured again on the
 * server pod's inbound side and delivered to the app; a TCP service works the same by VIP:port;
 * an address outside the mesh passes through (ALLOW_ANY); 15001 still serves HTTP_PROXY clients;
 * an app calling its own service passes its own sidecar twice (outbound, then inbound via 127.0.0.6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { NetnsNetwork, PROXY_GID, listMeshNetwork, type NetnsPod } from './provider.js';
import { serviceNames } from './hosts.js';
import { nodeScript, runIn, skipReason, startIn, testMeshId } from './test-pods.js';

const skip = (await skipReason()) || (spawnSync('curl', ['--version']).status !== 0 ? 'capture test skipped: curl is not installed' : false);
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const REVIEWS_VIP = '10.96.77.10';
const DB_VIP = '10.96.77.11';

// The app answers with who connected and the headers it got; the TCP service echoes with the peer.
const HTTP_APP = (port: number) =>
  `require('http').createServer((q, s) => s.end(JSON.stringify({ remote: q.socket.remoteAddress, headers: q.headers }))).listen(${port}, '0.0.0.0', () => console.log('listening'))`;
const TCP_APP = `require('net').createServer((s) => s.on('data', (d) => s.write(s.remoteAddress + ' ' + d))).listen(7000, '0.0.0.0', () => console.log('listening'))`;
const TCP_CLIENT = `const s = require('net').connect(7000, ${JSON.stringify(DB_VIP)}, () => s.write('ping')); s.setTimeout(5000, () => process.exit(1)); s.on('data', (d) => { console.log(String(d)); s.destroy(); })`;

interface Reply {
  remote: string;
  headers: Record<string, string>;
}

function cluster(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const max = 4294967295;
  return { name, discovery: 'eds', protocol: 'http1', loadBalancer: { policy: 'ROUND_ROBIN' }, connectTimeoutMs: 1000, circuitBreakers: { maxConnections: max, maxPendingRequests: max, maxRequests: max, maxRetries: max, maxRequestsPerConnection: 0 }, ...extra };
}

function endpoints(name: string, address: string, port: number): Record<string, unknown> {
  return { cluster: name, endpoints: [{ address, port, weight: 1, labels: {}, tlsMode: 'disabled', healthy: true }] };
}

function tcpChain(name: string, clusterName: string, match: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, match, protocol: 'tcp', tcp: { clusters: [{ cluster: clusterName, weight: 1 }], statPrefix: clusterName } };
}

/** Requests each cluster of the pod's sidecar has sent, from its admin port (loopback in the pod). */
async function clusterRequests(pod: NetnsPod): Promise<Map<string, number>> {
  const stats = JSON.parse(await runIn(pod, 'curl', ['-sS', '--max-time', '5', 'http://127.0.0.1:15000/clusters'])) as { name: string; endpoints: { requestsTotal: number }[] }[];
  return new Map(stats.map((c) => [c.name, c.endpoints.reduce((n, e) => n + e.requestsTotal, 0)]));
}

/** A sidecar's config as the compiler would write it for this little mesh (shape: src/proxy-config/types.ts). */
function sidecarConfig(pod: NetnsPod, server: NetnsPod): Record<string, unknown> {
  const reviews = 'outbound|9080||reviews.default.svc.cluster.local';
  const db = 'outbound|7000||db.default.svc.cluster.local';
  return {
    version: '1',
    node: { id: `${pod.name}.default`, role: 'sidecar', namespace: 'default', workload: pod.name, labels: {}, serviceAccount: 'default', ip: pod.ip, revision: '' },
    listeners: [
      { name: 'virtualOutbound', direction: 'outbound', address: '0.0.0.0', port: 15001, filterChains: [], defaultChain: tcpChain('PassthroughFilterChain', 'PassthroughCluster') },
      { name: '0.0.0.0_9080', direction: 'outbound', address: '0.0.0.0', port: 9080, filterChains: [{ name: '0.0.0.0_9080', match: {}, protocol: 'http', http: { routeConfig: '9080', filters: [], statPrefix: 'outbound_0.0.0.0_9080' } }] },
      { name: `${DB_VIP}_7000`, direction: 'outbound', address: DB_VIP, port: 7000, filterChains: [tcpChain(`${DB_VIP}_7000`, db)] },
      {
        name: 'virtualInbound',
        direction: 'inbound',
        address: '0.0.0.0',
        port: 15006,
        filterChains: [
          { name: '0.0.0.0_9080', match: { destinationPort: 9080 }, protocol: 'http', http: { routeConfig: 'inbound|9080||', filters: [], statPrefix: 'inbound_0.0.0.0_9080' } },
          tcpChain('0.0.0.0_7000', 'inbound|7000||', { destinationPort: 7000 }),
        ],
      },
    ],
    routes: [
      { name: '9080', virtualHosts: [{ name: 'reviews.default.svc.cluster.local:9080', domains: [...serviceNames('reviews', 'default'), ...serviceNames('reviews', 'default').map((n) => `${n}:9080`)], routes: [{ name: 'default', match: {}, action: { kind: 'forward', clusters: [{ cluster: reviews, weight: 100 }] } }] },
        // ALLOW_ANY: other hosts on an HTTP port go to where the connection was headed.
        { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: {}, action: { kind: 'forward', clusters: [{ cluster: 'PassthroughCluster', weight: 100 }] } }] }] },
      { name: 'inbound|9080||', virtualHosts: [{ name: 'inbound|http|9080', domains: ['*'], routes: [{ name: 'default', match: {}, action: { kind: 'forward', clusters: [{ cluster: 'inbound|9080||', weight: 100 }] } }] }] },
    ],
    clusters: [cluster(reviews), cluster(db, { protocol: 'tcp' }), cluster('inbound|9080||'), cluster('inbound|7000||', { protocol: 'tcp' }), cluster('PassthroughCluster', { discovery: 'original-dst', protocol: 'auto', loadBalancer: { policy: 'PASSTHROUGH' } })],
    endpoints: [endpoints(reviews, server.ip, 9080), endpoints(db, server.ip, 7000), endpoints('inbound|9080||', pod.ip, 9080), endpoints('inbound|7000||', pod.ip, 7000)],
    secrets: [],
    mesh: { trustDomain: 'cluster.local', pathNormalization: 'BASE', outboundTrafficPolicy: 'ALLOW_ANY' },
  };
}

test('iptables capture: unmodified clients get the mesh by original destination, inbound is delivered through the sidecar', { skip }, async (t) => {
  const id = testMeshId();
  const net = new NetnsNetwork(id);
  const dir = mkdtempSync(join(tmpdir(), 'weft-capture-'));
  const processes: ChildProcess[] = [];
  t.after(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await net.teardown();
    rmSync(dir, { recursive: true, force: true });
  });
  await net.setup();
  const client = await net.createPod({ name: 'client', namespace: 'default', injected: true });
  const server = await net.createPod({ name: 'reviews-v1', namespace: 'default', injected: true });
  const outside = await net.createPod({ name: 'outside', namespace: 'default', injected: false });
  assert.ok(client.captured && server.captured && !outside.captured);
  net.writeHosts([
    { ip: REVIEWS_VIP, names: serviceNames('reviews', 'default') },
    { ip: DB_VIP, names: serviceNames('db', 'default') },
  ]);

  const start = async (pod: NetnsPod, script: string, ready: string, gid?: number) => {
    const [cmd, args] = nodeScript(script);
    processes.push(await startIn(pod, cmd, args, ready, gid !== undefined ? { gid } : undefined));
  };
  await start(server, HTTP_APP(9080), 'listening');
  await start(server, TCP_APP, 'listening');
  await start(outside, HTTP_APP(8088), 'listening');
  await start(outside, HTTP_APP(9080), 'listening');
  for (const pod of [client, server]) {
    const file = join(dir, `${pod.name}.json`);
    writeFileSync(file, JSON.stringify(sidecarConfig(pod, server)));
    processes.push(await startIn(pod, process.execPath, [CLI, 'proxy', '--config', file, '--interception-mode', 'REDIRECT', '--bind', pod.ip, '--no-watch'], 'weft proxy ready', { gid: PROXY_GID }));
  }

  // HTTP by service name: the client's sidecar routed it (its headers), and it came in through the
  // server's sidecar (the app's peer is 127.0.0.6, where a captured sidecar connects from, as in Istio).
  const viaMesh = JSON.parse(await runIn(client, 'curl', ['-sS', '--max-time', '5', 'http://reviews:9080/hello'])) as Reply;
  assert.match(viaMesh.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(viaMesh.headers['x-forwarded-proto'], 'http');
  assert.equal(viaMesh.headers.host, 'reviews:9080');
  assert.equal(viaMesh.remote, '127.0.0.6');
  // Same through the fully qualified name, with node's http client.
  const fq = JSON.parse(await runIn(client, ...nodeScript(`require('http').get('http://reviews.default.svc.cluster.local:9080/', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(b)); })`))) as Reply;
  assert.ok(fq.headers['x-request-id']);

  // TCP by VIP:port (a listener on that exact address), through both sidecars.
  assert.equal((await runIn(client, ...nodeScript(TCP_CLIENT))).trim(), '127.0.0.6 ping');

  // An address no listener names: virtualOutbound passes it through to where it was headed.
  const passthrough = JSON.parse(await runIn(client, 'curl', ['-sS', '--max-time', '5', `http://${outside.ip}:8088/`])) as Reply;
  assert.equal(passthrough.remote, client.ip);
  assert.equal(passthrough.headers['x-request-id'], undefined); // opaque TCP: not routed as HTTP

  // An HTTP port with a listener, a Host no service has: routed as HTTP (allow_any) and passed
  // through to the address the app dialled, whatever its Host header says.
  const byAddress = JSON.parse(await runIn(client, 'curl', ['-sS', '--max-time', '5', '-H', 'Host: nowhere.invalid', `http://${outside.ip}:9080/`])) as Reply;
  assert.ok(byAddress.headers['x-request-id'], 'routed as HTTP by the sidecar');
  assert.equal(byAddress.headers.host, 'nowhere.invalid');

  // An app using HTTP_PROXY still gets the HTTP proxy on 15001 (not redirected: served as before).
  const proxied = JSON.parse(await runIn(client, 'curl', ['-sS', '--max-time', '5', '-x', 'http://127.0.0.1:15001', 'http://reviews:9080/p'])) as Reply;
  assert.ok(proxied.headers['x-request-id']);

  // The server's app calls its own service: its sidecar picks its own pod as the endpoint, and that
  // connection (gid 1337, over lo to the pod address) is captured again into its inbound side,
  // which reaches the app from 127.0.0.6 (Istio's rules). Both clusters count the request.
  const before = await clusterRequests(server);
  const self = JSON.parse(await runIn(server, 'curl', ['-sS', '--max-time', '5', 'http://reviews:9080/self'])) as Reply;
  assert.equal(self.remote, '127.0.0.6');
  assert.ok(self.headers['x-request-id'], 'routed by the sidecar');
  const after = await clusterRequests(server);
  assert.equal((after.get('outbound|9080||reviews.default.svc.cluster.local') ?? 0) - (before.get('outbound|9080||reviews.default.svc.cluster.local') ?? 0), 1);
  assert.equal((after.get('inbound|9080||') ?? 0) - (before.get('inbound|9080||') ?? 0), 1, 'the call passed the inbound side');
  // The app calling its own pod address goes straight to itself over lo, as in Istio (not captured).
  const direct = JSON.parse(await runIn(server, 'curl', ['-sS', '--max-time', '5', `http://${server.ip}:9080/direct`])) as Reply;
  assert.equal(direct.remote, server.ip);
  assert.equal(direct.headers['x-request-id'], undefined);

  // The proxy's own ports are not captured inbound: the server's health port answers from outside.
  assert.match(await runIn(client, 'curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://${server.ip}:15021/healthz/ready`]), /^\d{3}$/);

  for (const p of processes) p.kill('SIGKILL');
  await net.teardown();
  assert.deepEqual(await listMeshNetwork(id), { netns: [], links: [], rules: [], hostsDirs: [] });
});
