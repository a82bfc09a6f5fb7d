/**
 * A two-sidecar mesh for telemetry tests, on loopback with real sockets: productpage-v1's
 * sidecar (client) -> reviews-v2's sidecar (server) -> the reviews app; a `ratings` service whose
 * only endpoint is a closed port (503 UF); and a TCP service `mysql` (an echo server) reached
 * through a CONNECT tunnel. Both proxies serve 15090-style metrics on port 0 and log every
 * request and connection into arrays.
 */
import net from 'node:net';
import type { Cluster, Listener, MeshRuntimeConfig, ProxyConfig } from '../../proxy-config/index.js';
import { startProxy, startUpstream, type TestProxy, type TestUpstream, freePort } from '../test-kit.js';
import { workloadSecrets } from '../test-pki.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../test-config.js';

export interface TestMesh {
  client: TestProxy;
  server: TestProxy;
  app: TestUpstream;
  clientLog: string[];
  serverLog: string[];
  /** Opens a CONNECT tunnel to mysql:3306 through the client, sends `bytes`, waits for the echo, closes. */
  tcpRoundTrip(bytes: string): Promise<void>;
  /** The same tunnel left open once `bytes` came back; the caller closes it. */
  tcpOpen(bytes: string): Promise<net.Socket>;
  close(): Promise<void>;
}

function svc(name: string, port: number): Cluster['service'] {
  return { host: `${name}.default.svc.cluster.local`, name, namespace: 'default', port };
}

function node(config: ProxyConfig, workload: string, labels: Record<string, string>): ProxyConfig {
  return { ...config, node: { ...config.node, id: `${workload}-7d9f.default`, role: 'sidecar', workload, labels, serviceAccount: `bookinfo-${labels.app ?? workload}` } };
}

/** Certificates for Istio mTLS between the two sidecars (SPIFFE IDs of bookinfo-productpage and bookinfo-reviews). */
export interface MeshPki {
  ca: string;
  client: { cert: string; key: string };
  server: { cert: string; key: string };
}

/** `clientMesh` / `serverMesh`: mesh settings (Telemetry's tracing, metrics, access logs) laid over each proxy's. */
export async function startTestMesh(opts: { encoding?: 'TEXT' | 'JSON'; pki?: MeshPki; clientMesh?: Partial<MeshRuntimeConfig>; serverMesh?: Partial<MeshRuntimeConfig> } = {}): Promise<TestMesh> {
  const pki = opts.pki;
  const app = await startUpstream('reviews');
  app.handle((req, res) => {
    const status = req.url?.startsWith('/fail') ? 500 : 200;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status === 200 ? 'reviews v2' : 'failed');
  });
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const closedPort = await freePort();
  const inboundPort = await freePort();
  const accessLog = { encoding: opts.encoding ?? 'TEXT', file: '/dev/stdout' } as const;

  const inbound: Listener = {
    name: 'virtualInbound', direction: 'inbound', address: '0.0.0.0', port: 15006,
    filterChains: [{
      name: '0.0.0.0_9080', match: { destinationPort: 9080 }, protocol: 'http', http: { routeConfig: 'inbound|9080||', filters: [], statPrefix: 'inbound_0.0.0.0_9080' },
      ...(pki ? { tls: { mode: 'ISTIO_MUTUAL' as const, certificate: 'default', validationContext: 'ROOTCA', alpn: ['h2', 'http/1.1'] } } : {}),
    }],
  };
  const serverBase = proxyConfig({
    role: 'sidecar',
    listeners: [inbound],
    routes: [{ name: 'inbound|9080||', virtualHosts: [vhost('inbound|http|9080', ['*'], [route('default', {}, forward('inbound|9080||'))])] }],
    clusters: [cluster('inbound|9080||', { service: svc('reviews', 9080) })],
    endpoints: [endpoints('inbound|9080||', [app.port])],
    ...(pki ? { secrets: workloadSecrets(pki.ca, pki.server) } : {}),
  });
  const serverConfig = node({ ...serverBase, mesh: { ...serverBase.mesh, accessLog, ...opts.serverMesh } }, 'reviews-v2', { app: 'reviews', version: 'v2' });
  const serverLog: string[] = [];
  const server = await startProxy(serverConfig, { bootstrap: { inboundPortMap: new Map([[inboundPort, 9080]]), ports: { outbound: 0, inbound: 0, admin: 0, health: 0, prometheus: 0, status: 0 } }, proxy: { accessLogSink: (l) => serverLog.push(l) } });

  const reviewsCluster = 'outbound|9080||reviews.default.svc.cluster.local';
  const ratingsCluster = 'outbound|9080||ratings.default.svc.cluster.local';
  const mysqlCluster = 'outbound|3306||mysql.default.svc.cluster.local';
  const clientBase = proxyConfig({
    role: 'sidecar',
    listeners: [
      httpListener('0.0.0.0_9080', 'outbound', 9080, '9080'),
      { name: '0.0.0.0_3306', direction: 'outbound', address: '0.0.0.0', port: 3306, filterChains: [{ name: 'tcp', match: {}, protocol: 'tcp', tcp: { clusters: [{ cluster: mysqlCluster, weight: 1 }], statPrefix: mysqlCluster } }] },
    ],
    routes: [{
      name: '9080',
      virtualHosts: [
        vhost('reviews.default.svc.cluster.local:9080', ['reviews', 'reviews:9080'], [route('reviews.default', {}, forward(reviewsCluster))]),
        vhost('ratings.default.svc.cluster.local:9080', ['ratings', 'ratings:9080'], [route('ratings.default', {}, forward(ratingsCluster))]),
      ],
    }],
    clusters: [cluster(reviewsCluster, { service: svc('reviews', 9080) }), cluster(ratingsCluster, { service: svc('ratings', 9080) }), cluster(mysqlCluster, { protocol: 'tcp', service: svc('mysql', 3306) })],
    endpoints: [
      { cluster: reviewsCluster, endpoints: [{ address: '127.0.0.1', port: inboundPort, weight: 1, labels: { app: 'reviews', version: 'v2' }, workload: { name: 'reviews-v2', namespace: 'default', serviceAccount: 'bookinfo-reviews' }, tlsMode: pki ? 'istio' : 'disabled', healthy: true }] },
      { cluster: ratingsCluster, endpoints: [{ address: '127.0.0.1', port: closedPort, weight: 1, labels: { app: 'ratings', version: 'v1' }, workload: { name: 'ratings-v1', namespace: 'default', serviceAccount: 'bookinfo-ratings' }, tlsMode: 'disabled', healthy: true }] },
      { cluster: mysqlCluster, endpoints: [{ address: '127.0.0.1', port: echoPort, weight: 1, labels: { app: 'mysql' }, workload: { name: 'mysql-v1', namespace: 'db', serviceAccount: 'mysql' }, tlsMode: 'disabled', healthy: true }] },
    ],
    ...(pki ? { secrets: workloadSecrets(pki.ca, pki.client) } : {}),
  });
  const clientConfig = node({ ...clientBase, mesh: { ...clientBase.mesh, accessLog, ...opts.clientMesh } }, 'productpage-v1', { app: 'productpage', version: 'v1' });
  const clientLog: string[] = [];
  const client = await startProxy(clientConfig, { bootstrap: { ports: { outbound: 0, inbound: 0, admin: 0, health: 0, prometheus: 0, status: 0 } }, proxy: { accessLogSink: (l) => clientLog.push(l) } });

  return {
    client, server, app, clientLog, serverLog,
    tcpOpen: (bytes) => tunnelEcho(client.port('outbound'), MYSQL_AUTHORITY, bytes),
    tcpRoundTrip: (bytes) => tunnelEcho(client.port('outbound'), MYSQL_AUTHORITY, bytes).then(closed),
    close: async () => {
      await Promise.all([client.close(), server.close()]);
      await app.close();
      echo.close();
    },
  };
}

const MYSQL_AUTHORITY = 'mysql.default.svc.cluster.local:3306';

/**
 * A CONNECT tunnel to `authority` through a sidecar's outbound port (how these tests reach a TCP
 * service), `bytes` sent through it; resolves with the open socket once an echo server has sent
 * them back.
 */
export function tunnelEcho(port: number, authority: string, bytes: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`tunnel to ${authority} closed before the echo: ${JSON.stringify(got)}`)));
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.endsWith(bytes)) resolve(socket);
    });
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n${bytes}`);
  });
}

/** Ends the socket and waits until it has closed (both sides log a connection once it is closed). */
export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
  });
}
