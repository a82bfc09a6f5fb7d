/**
 * The live service graph end to end, with real processes: `weft control-plane` scraping three
 * `weft proxy` processes (an ingress gateway and productpage's sidecar on their own loopback
 * addresses; reviews, mysql and an external API are plain servers), traffic through them, and the
 * graph the control plane serves and `weft graph` prints: exactly the expected nodes and edges,
 * the unknown source, an error rate, mTLS where the mesh speaks it, a TCP edge and an external host.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Processes, get, getJson, proxyIdentity, waitFor, weft } from './kit.js';
import type { EdgeSeries, ServiceGraph } from '../telemetry/graph/index.js';

// Addresses of their own, so this file runs beside other e2e files.
const GATEWAY_IP = '127.0.0.21';
const PRODUCTPAGE_IP = '127.0.0.22';
const PRODUCTPAGE_APP_IP = '127.0.0.23';
const REVIEWS_IP = '127.0.0.24';
const MYSQL_IP = '127.0.0.25';
const EXTERNAL_IP = '127.0.0.26';

const pod = (name: string, ns: string, workload: string, labels: string, ip: string, port: number, sidecar: boolean) => `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {${labels}${sidecar ? ', security.istio.io/tlsMode: istio' : ''}}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: ${workload}-5d9f8b7c6d, uid: u-${name}, controller: true}]
spec:
  serviceAccountName: ${workload.replace(/-v\d+$/, '')}
  containers:
  - {name: app, image: app, ports: [{name: port, containerPort: ${port}}]}
${sidecar ? '  - {name: istio-proxy, image: weft/proxy}\n' : ''}status: {phase: Running, podIP: ${ip}, conditions: [{type: Ready, status: "True"}]}
`;

const service = (name: string, ns: string, portName: string, port: number, target: number) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {app: ${name}}
  ports: [{name: ${portName}, port: ${port}, targetPort: ${target}}]
`;

const mesh = (p: { productpage: number; reviews: number; mysql: number; external: number }) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/bookinfo-gateway]
  http: [{route: [{destination: {host: productpage.default.svc.cluster.local, port: {number: 9080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-api, namespace: default}
spec:
  hosts: [api.external.test]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: ${EXTERNAL_IP}, ports: {http: ${p.external}}}]
${pod('productpage-v1-0', 'default', 'productpage-v1', 'app: productpage, version: v1', PRODUCTPAGE_IP, p.productpage, true)}${service('productpage', 'default', 'http', 9080, p.productpage)}${pod('reviews-v1-0', 'default', 'reviews-v1', 'app: reviews, version: v1', REVIEWS_IP, p.reviews, false)}${service('reviews', 'default', 'http', 9080, p.reviews)}${pod('mysql-v1-0', 'db', 'mysql-v1', 'app: mysql, version: v1', MYSQL_IP, p.mysql, false)}${service('mysql', 'db', 'tcp-mysql', 3306, p.mysql)}`;

function listen(server: net.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/** A request as an app with HTTP_PROXY sends it, through productpage's sidecar. */
function viaSidecar(port: number, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: PRODUCTPAGE_IP, port, path: url, headers: { host: new URL(url).host }, agent: false, timeout: 3_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A CONNECT tunnel to mysql through the sidecar: `bytes` sent, echoed back, closed. */
function tcpRoundTrip(port: number, bytes: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, PRODUCTPAGE_IP);
    let got = '';
    socket.setTimeout(3_000, () => socket.destroy(new Error(`tunnel: got ${JSON.stringify(got)}`)));
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.endsWith(bytes)) socket.end();
    });
    socket.on('close', () => (got.endsWith(bytes) ? resolve() : reject(new Error(`tunnel closed: got ${JSON.stringify(got)}`))));
    socket.write(`CONNECT mysql.db.svc.cluster.local:3306 HTTP/1.1\r\nHost: mysql.db.svc.cluster.local:3306\r\n\r\n${bytes}`);
  });
}

describe('the service graph from live telemetry', { timeout: 90_000 }, () => {
  const procs = new Processes();
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-graph-'));
  const servers: net.Server[] = [];
  let monitoring = '';
  let graph: ServiceGraph;

  before(async () => {
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    const serve = (server: net.Server, host: string) => {
      servers.push(server);
      return listen(server, host);
    };
    const app = (name: string) => http.createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/fail') ? 500 : 200);
      res.end(name);
    });
    const productpage = await serve(app('productpage'), PRODUCTPAGE_APP_IP);
    const reviews = await serve(app('reviews'), REVIEWS_IP);
    const external = await serve(app('external'), EXTERNAL_IP);
    const mysql = await serve(net.createServer((s) => s.pipe(s)), MYSQL_IP);
    writeFileSync(join(configDir, 'mesh.yaml'), mesh({ productpage, reviews, mysql, external }));
    const stateDir = join(dir, 'state');
    const cp = procs.start('istiod', ['control-plane', '--config', configDir, '--state-dir', stateDir, '--port', '0', '--monitoring-port', '0', '--dashboard-port', 'none',
      '--zipkin-port', 'none', '--graph-scrape-interval', '200ms']);
    const ready = await cp.ready;
    monitoring = `http://127.0.0.1:${ready.ports.monitoring}`;
    const xds = `127.0.0.1:${ready.ports.xds}`;
    const proxy = (name: string, node: Record<string, unknown>, extra: string[]) => {
      const identity = proxyIdentity(dir, stateDir, name, { ...node, id: String(node.id), serviceAccount: String(node.serviceAccount) });
      return procs.start(name, ['proxy', '--control-plane', xds, ...identity,
        '--bind', String(node.ip), '--admin-port', '0', '--health-port', '0', '--prometheus-port', '0', '--status-port', '0', ...extra]);
    };
    writeFileSync(join(dir, 'productpage-bootstrap.json'), JSON.stringify({ appAddress: PRODUCTPAGE_APP_IP }));
    const gw = proxy('gateway', { id: 'istio-ingressgateway-0.istio-system', role: 'ingress-gateway', namespace: 'istio-system', workload: 'istio-ingressgateway', serviceAccount: 'istio-ingressgateway-service-account', ip: GATEWAY_IP, labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
      ['--port-map', '80=0']);
    const pp = proxy('productpage', { id: 'productpage-v1-0.default', role: 'sidecar', namespace: 'default', workload: 'productpage-v1', serviceAccount: 'productpage', ip: PRODUCTPAGE_IP, labels: { app: 'productpage', version: 'v1' } },
      ['--outbound-port', '0', '--inbound-port', '0', '--inbound-port-map', `${productpage}=${productpage}`, '--bootstrap', join(dir, 'productpage-bootstrap.json')]);
    const gateway = `http://${GATEWAY_IP}:${(await gw.ready).ports['gateway:80']}/`;
    const outbound = (await pp.ready).ports.outbound ?? 0;
    const inbound = `http://${PRODUCTPAGE_IP}:${productpage}/`;

    try {
      await waitFor('traffic through the gateway', async () => ((await get(gateway)).status === 200 ? true : undefined), 15_000);
      // Rates start at the first scrape: wait until both proxies have been scraped once.
      await waitFor('both proxies scraped', async () => ((await getJson<ServiceGraph>(`${monitoring}/debug/graph`)).proxies.scraped === 2 ? true : undefined), 10_000);
      for (let i = 0; i < 10; i++) assert.equal((await get(gateway)).status, 200);
      for (let i = 0; i < 4; i++) assert.equal((await get(inbound)).status, 200); // from outside the mesh: no source proxy
      for (let i = 0; i < 6; i++) assert.equal(await viaSidecar(outbound, 'http://reviews.default.svc.cluster.local:9080/reviews/1'), 200);
      for (let i = 0; i < 2; i++) assert.equal(await viaSidecar(outbound, 'http://reviews.default.svc.cluster.local:9080/fail'), 500);
      for (let i = 0; i < 3; i++) assert.equal(await viaSidecar(outbound, 'http://api.external.test/'), 200);
      await tcpRoundTrip(outbound, 'ping-1');
      await tcpRoundTrip(outbound, 'ping-2');
      const expectedEdges = 8;
      graph = await waitFor('every edge in the graph', async () => {
        const g = await getJson<ServiceGraph>(`${monitoring}/debug/graph?window=60s`);
        return g.edges.length >= expectedEdges && g.edges.find((e) => e.protocol === 'tcp')?.tcp?.bytesPerSecond ? g : undefined;
      }, 10_000);
    } catch (err) {
      assert.fail(`${(err as Error).message}\n${procs.dump()}`);
    }
  });

  after(async () => {
    await procs.killAll();
    for (const s of servers) {
      if (s instanceof http.Server) s.closeAllConnections();
      s.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('has exactly the expected nodes, with kinds, apps and versions', () => {
    assert.deepEqual(graph.nodes.map((n) => [n.id, n.kind, n.app ?? '', n.version ?? '']), [
      ['external/api.external.test', 'external', '', ''],
      ['service/db/mysql', 'service', '', ''],
      ['service/default/productpage', 'service', '', ''],
      ['service/default/reviews', 'service', '', ''],
      ['unknown', 'unknown', '', ''],
      ['workload/db/mysql-v1', 'workload', 'mysql', 'v1'],
      ['workload/default/productpage-v1', 'workload', 'productpage', 'v1'],
      ['workload/default/reviews-v1', 'workload', 'reviews', 'v1'],
      ['workload/istio-system/istio-ingressgateway', 'gateway', 'istio-ingressgateway', ''],
    ]);
  });

  it('has exactly the expected edges: protocols, error rates, mTLS, latency, TCP bytes', () => {
    assert.deepEqual(graph.edges.map((e) => [e.source, e.target, e.protocol, e.errorRate ?? null, e.mtls]), [
      ['service/db/mysql', 'workload/db/mysql-v1', 'tcp', null, false],
      ['service/default/productpage', 'workload/default/productpage-v1', 'http', 0, false],
      ['service/default/reviews', 'workload/default/reviews-v1', 'http', 0.25, false],
      ['unknown', 'service/default/productpage', 'http', 0, false],
      ['workload/default/productpage-v1', 'external/api.external.test', 'http', 0, false],
      ['workload/default/productpage-v1', 'service/db/mysql', 'tcp', null, false],
      ['workload/default/productpage-v1', 'service/default/reviews', 'http', 0.25, false],
      ['workload/istio-system/istio-ingressgateway', 'service/default/productpage', 'http', 0, true],
    ]);
    const byId = new Map(graph.edges.map((e) => [`${e.source} ${e.target}`, e]));
    // The gateway's share of productpage's traffic is mutual TLS, the unknown source's is not.
    const toProductpage = byId.get('service/default/productpage workload/default/productpage-v1');
    assert.ok(toProductpage && toProductpage.mtlsPercent > 0 && toProductpage.mtlsPercent < 100, JSON.stringify(toProductpage));
    for (const e of graph.edges.filter((x) => x.protocol === 'http')) {
      assert.ok((e.requestRate ?? 0) > 0 && e.p50Ms !== null && e.p99Ms !== null, JSON.stringify(e));
    }
    const tcp = byId.get('workload/default/productpage-v1 service/db/mysql')?.tcp;
    assert.ok(tcp && tcp.bytesPerSecond > 0 && tcp.connectionsPerSecond > 0 && tcp.activeConnections === 0, JSON.stringify(tcp));
  });

  it('serves an edge over time for charts', async () => {
    const edge = 'workload/default/productpage-v1->service/default/reviews:http';
    const series = await getJson<EdgeSeries>(`${monitoring}/debug/graph/series?edge=${encodeURIComponent(edge)}&range=1m&step=10s`);
    assert.equal(series.points.length, 6);
    assert.ok(series.points.reduce((sum, p) => sum + p.requestRate, 0) > 0, JSON.stringify(series));
    // One step over the whole minute holds every request: a quarter of them failed.
    const whole = await getJson<EdgeSeries>(`${monitoring}/debug/graph/series?edge=${encodeURIComponent(edge)}&range=1m&step=1m`);
    assert.deepEqual(whole.points.map((p) => p.errorRate), [0.25]);
    assert.equal((await get(`${monitoring}/debug/graph/series`)).status, 400);
  });

  it('weft graph prints one line per edge; -n keeps a namespace; -o json is the served graph; a bad window is refused', () => {
    const text = weft('graph', '--control-plane', monitoring);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^istio-ingressgateway\.istio-system\s+->\s+svc\/productpage\.default\s+http\s+[\d.]+ rps\s+0\.0% err\s+p50 [\d.]+ms\s+p99 [\d.]+ms\s+mTLS$/m);
    assert.match(text.stdout, /^productpage-v1\.default\s+->\s+svc\/reviews\.default\s+http\s+[\d.]+ rps\s+25\.0% err\s+p50 [\d.]+ms\s+p99 [\d.]+ms\s+plaintext$/m);
    assert.match(text.stdout, /^productpage-v1\.default\s+->\s+svc\/mysql\.db\s+tcp\s+[\d.]+ (B|KiB)\/s\s+[\d.]+ conn\/s\s+0 open\s+plaintext$/m);
    // Then a section of one line per service with requests: its callers' traffic merged.
    const [edgeLines = '', serviceLines = ''] = text.stdout.split('\n\n');
    assert.equal(edgeLines.trim().split('\n').length, graph.edges.length);
    assert.match(serviceLines, /^services \(every caller's requests together\):\n/);
    assert.match(serviceLines, /^svc\/reviews\.default\s+[\d.]+ rps\s+25\.0% err\s+p50 [\d.]+ms\s+p99 [\d.]+ms$/m);
    assert.match(serviceLines, /^ext\/api\.external\.test\s+[\d.]+ rps/m);
    assert.equal(serviceLines.trim().split('\n').length - 1, graph.nodes.filter((n) => (n.kind === 'service' || n.kind === 'external') && n.requestRate !== undefined).length, serviceLines);
    const db = weft('graph', '-n', 'db', '-o', 'json', '--window', '2m', '--control-plane', monitoring);
    assert.equal(db.code, 0, db.stderr);
    const dbGraph = JSON.parse(db.stdout) as ServiceGraph;
    assert.equal(dbGraph.window, '2m');
    assert.deepEqual(dbGraph.edges.map((e) => `${e.source} ${e.target}`), ['service/db/mysql workload/db/mysql-v1', 'workload/default/productpage-v1 service/db/mysql']);
    const bad = weft('graph', '--window', '3 parsecs', '--control-plane', monitoring);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: window: invalid duration "3 parsecs"/);
    const long = weft('graph', '--window', '1h', '--control-plane', monitoring);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /outside 1s\.\.600s/);
  });
});
