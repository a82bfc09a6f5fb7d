/**
 * The peer's workload in TCP access-log entries, with two real sidecars over Istio mTLS on
 * loopback (certificates made by openssl): productpage-v1's sidecar opens a TCP connection to
 * mysql (mysql-v1's sidecar in namespace db, in front of an echo app), the two exchange Istio's
 * metadata frame in the `istio-peer-exchange` ALPN, and each logs the other as Istio's proxy
 * keeps it: the client as `upstream_peer`, the server as `downstream_peer`, read with
 * `%FILTER_STATE(...)%` in TEXT (FIELD and PLAIN) and JSON (TYPED: an object). Istio's default
 * format, which names no peer, stays as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Listener, MeshRuntimeConfig, ProxyConfig } from '../../proxy-config/index.js';
import { startProxy, type TestProxy, freePort } from '../test-kit.js';
import { cluster, proxyConfig } from '../test-config.js';
import { makeTestPki, workloadSecrets } from '../test-pki.js';
import { closed, tunnelEcho } from './test-mesh.js';

const MYSQL = 'outbound|3306||mysql.db.svc.cluster.local';
const CLIENT_TEXT = '%FILTER_STATE(upstream_peer:FIELD:workload)% %FILTER_STATE(upstream_peer:FIELD:namespace)% %FILTER_STATE(downstream_peer:FIELD:workload)% [%FILTER_STATE(upstream_peer:PLAIN)%] %FILTER_STATE(upstream_peer:TYPED):40% %FILTER_STATE(istio.other)% %UPSTREAM_CLUSTER_RAW% %BYTES_SENT%';
const SERVER_JSON = JSON.stringify({ downstream_peer: '%FILTER_STATE(downstream_peer)%', upstream_peer: '%FILTER_STATE(upstream_peer)%', peer_workload: '%FILTER_STATE(downstream_peer:FIELD:workload)%', peer_san: '%DOWNSTREAM_PEER_URI_SAN%' });

type AccessLog = NonNullable<MeshRuntimeConfig['accessLog']>;

interface Pair {
  client: TestProxy;
  server: TestProxy;
  clientLog: string[];
  serverLog: string[];
  /** A TCP round trip to mysql through the client sidecar (a CONNECT tunnel), closed once echoed. */
  roundTrip(bytes: string): Promise<void>;
}

function as(config: ProxyConfig, id: string, namespace: string, workload: string, labels: Record<string, string>, accessLog: AccessLog): ProxyConfig {
  return { ...config, node: { ...config.node, id, namespace, role: 'sidecar', workload, labels, serviceAccount: labels.app ?? workload }, mesh: { ...config.mesh, accessLog } };
}

async function startPair(t: { after(fn: () => unknown): void }, logs: { client: AccessLog; server: AccessLog }): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-tcp-peer-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makeTestPki(dir);
  const clientLeaf = pki.leaf('client', 'spiffe://cluster.local/ns/default/sa/productpage');
  const serverLeaf = pki.leaf('server', 'spiffe://cluster.local/ns/db/sa/mysql');

  const echo = net.createServer((s) => s.on('error', () => {}).pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => echo.close(r)));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const inboundPort = await freePort();

  const inbound: Listener = {
    name: 'virtualInbound', direction: 'inbound', address: '0.0.0.0', port: 15006,
    filterChains: [{
      name: '0.0.0.0_3306', match: { destinationPort: 3306 }, protocol: 'tcp',
      tls: { mode: 'ISTIO_MUTUAL', certificate: 'default', validationContext: 'ROOTCA', alpn: ['istio-peer-exchange', 'istio'] },
      tcp: { clusters: [{ cluster: 'inbound|3306||', weight: 1 }], statPrefix: 'inbound|3306||' },
    }],
  };
  const serverConfig = as(proxyConfig({
    role: 'sidecar', listeners: [inbound], routes: [],
    clusters: [cluster('inbound|3306||', { protocol: 'tcp', service: { host: 'mysql.db.svc.cluster.local', name: 'mysql', namespace: 'db', port: 3306 } })],
    endpoints: [{ cluster: 'inbound|3306||', endpoints: [{ address: '127.0.0.1', port: echoPort, weight: 1, labels: {}, tlsMode: 'disabled', healthy: true }] }],
    secrets: workloadSecrets(pki.ca, serverLeaf),
  }), 'mysql-v1-5b7c.db', 'db', 'mysql-v1', { app: 'mysql', version: 'v1' }, logs.server);
  const serverLog: string[] = [];
  const ports = { outbound: 0, inbound: 0, admin: 0, health: 0, prometheus: 0, status: 0 };
  const server = await startProxy(serverConfig, { bootstrap: { inboundPortMap: new Map([[inboundPort, 3306]]), ports }, proxy: { accessLogSink: (l) => serverLog.push(l) } });
  t.after(() => server.close());

  const clientConfig = as(proxyConfig({
    role: 'sidecar',
    listeners: [{ name: '0.0.0.0_3306', direction: 'outbound', address: '0.0.0.0', port: 3306, filterChains: [{ name: 'tcp', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: MYSQL, weight: 1 }], statPrefix: MYSQL } }] }],
    routes: [],
    clusters: [cluster(MYSQL, { protocol: 'tcp', service: { host: 'mysql.db.svc.cluster.local', name: 'mysql', namespace: 'db', port: 3306 } })],
    // tlsMode istio: auto mTLS, ISTIO_MUTUAL with Istio's ALPN, to the server sidecar's SPIFFE ID.
    endpoints: [{ cluster: MYSQL, endpoints: [{ address: '127.0.0.1', port: inboundPort, weight: 1, labels: { app: 'mysql', version: 'v1' }, workload: { name: 'mysql-v1', namespace: 'db', serviceAccount: 'mysql' }, tlsMode: 'istio', healthy: true }] }],
    secrets: workloadSecrets(pki.ca, clientLeaf),
  }), 'productpage-v1-7d9f.default', 'default', 'productpage-v1', { app: 'productpage', version: 'v1' }, logs.client);
  const clientLog: string[] = [];
  const client = await startProxy(clientConfig, { bootstrap: { ports }, proxy: { accessLogSink: (l) => clientLog.push(l) } });
  t.after(() => client.close());

  return {
    client, server, clientLog, serverLog,
    roundTrip: (bytes) => tunnelEcho(client.port('outbound'), 'mysql.db.svc.cluster.local:3306', bytes).then(closed),
  };
}

/** Both sides log a connection once it has closed on their side: wait for one line each. */
async function lines(pair: Pair): Promise<{ client: string; server: string }> {
  for (let i = 0; i < 300 && (pair.clientLog.length === 0 || pair.serverLog.length === 0); i++) await new Promise((r) => setTimeout(r, 10));
  const [client, server] = [pair.clientLog[0], pair.serverLog[0]];
  assert.ok(client !== undefined && server !== undefined, `one line each: client ${JSON.stringify(pair.clientLog)}, server ${JSON.stringify(pair.serverLog)}`);
  return { client, server };
}

test('mTLS TCP: the client logs the server as upstream_peer, the server the client as downstream_peer', async (t) => {
  const pair = await startPair(t, { client: { encoding: 'TEXT', format: CLIENT_TEXT }, server: { encoding: 'JSON', format: SERVER_JSON } });
  await pair.roundTrip('select 1;');
  const { client, server } = await lines(pair);

  // The client knows the server, not itself: downstream_peer is unset (its app sent no frame).
  // TYPED in TEXT is the object's JSON (keys sorted), here cut to 40 characters; unknown keys are unset.
  assert.equal(client, `mysql-v1 db - [workload=mysql-v1,name=mysql-v1-5b7c,cluster=Kubernetes,namespace=db,service=mysql,revision=v1,app=mysql,version=v1] {"app":"mysql","cluster":"Kubernetes","n - ${MYSQL} 9\n`);

  const entry = JSON.parse(server) as Record<string, unknown>;
  assert.deepEqual(entry.downstream_peer, {
    app: 'productpage', cluster: 'Kubernetes', name: 'productpage-v1-7d9f', namespace: 'default',
    revision: 'v1', service: 'productpage', version: 'v1', workload: 'productpage-v1',
  });
  assert.equal(entry.upstream_peer, null);
  assert.equal(entry.peer_workload, 'productpage-v1');
  assert.equal(entry.peer_san, 'spiffe://cluster.local/ns/default/sa/productpage');
});

test('Istio\'s default formats name no peer, as Envoy\'s do not', async (t) => {
  const pair = await startPair(t, { client: { encoding: 'TEXT' }, server: { encoding: 'JSON' } });
  await pair.roundTrip('ping');
  const { client, server } = await lines(pair);
  assert.doesNotMatch(client, /productpage|mysql-v1/);
  assert.match(client, new RegExp(` ${MYSQL.replace(/\|/g, '\\|')} `));
  const entry = JSON.parse(server) as Record<string, unknown>;
  assert.equal(entry.upstream_cluster, 'inbound|3306||');
  assert.ok(!('downstream_peer' in entry) && !JSON.stringify(entry).includes('productpage-v1'));
});
