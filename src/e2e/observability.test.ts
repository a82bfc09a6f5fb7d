/**
 * Observability's "done when" end to end on the local runtime (plain network mode): the demo
 * profile installed (100% tracing), the demo app injected, a Kafka-like TCP pair (a client that
 * keeps one connection open and exchanges bytes with a "kafka" server behind a tcp- port) and a
 * call out through the egress gateway (Istio's egress gateway task). After traffic through the
 * ingress, the control plane's service graph has exactly the expected nodes and edges, and one
 * page view is one trace in the trace store: gateway -> productpage -> reviews -> ratings, each
 * span starting inside its parent's time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_MANIFESTS } from '../demo/index.js';
import { TestMesh, until, readyCount, httpGet, type CliResult } from '../runtime/testing.js';
import type { RuntimeStatus } from '../runtime/status.js';
import type { ServiceGraph } from '../telemetry/graph/index.js';
import type { Span } from '../telemetry/span.js';
import { EXTERNAL_HOST, egressManifests, egressRouting, startExternalServer } from './egress.js';

/**
 * The Kafka-like pair: a TCP server on a `tcp-` port and a client that opens one connection (a
 * CONNECT tunnel through its sidecar, as plain mode's apps reach the mesh) and keeps exchanging bytes.
 */
/** The kafka Service and server, then (a second file) the client. */
function kafkaManifests(dir: string): { server: string; client: string } {
  const server = join(dir, 'kafka-server.js');
  writeFileSync(server, `require('net').createServer((s) => s.on('error', () => {}).pipe(s)).listen(9092, process.env.WEFT_BIND_ADDRESS);\n`);
  const client = join(dir, 'kafka-client.js');
  // Like a Kafka client's request timeout: no echo within 2 s (the mesh did not know kafka yet), reconnect.
  writeFileSync(client, `const net = require('net');
const proxy = new URL(process.env.HTTP_PROXY);
function connect() {
  const s = net.connect(Number(proxy.port), proxy.hostname);
  let n = 0, echoed = '';
  const timer = setInterval(() => s.write('produce ' + n++ + '\\n'), 100);
  const deadline = setTimeout(() => s.destroy(), 2000);
  s.on('data', (c) => { echoed += c; if (echoed.includes('produce 0')) clearTimeout(deadline); });
  s.on('error', () => {});
  s.on('close', () => { clearInterval(timer); clearTimeout(deadline); setTimeout(connect, 200); });
  s.write('CONNECT kafka.default.svc.cluster.local:9092 HTTP/1.1\\r\\nHost: kafka.default.svc.cluster.local:9092\\r\\n\\r\\n');
}
connect();
`);
  const deployment = (name: string, script: string, ports: string) => `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}, version: v1}}
    spec:
      containers:
      - {name: ${name}, image: node, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}], ports: [${ports}]}
`;
  const files = { server: join(dir, 'kafka.yaml'), client: join(dir, 'kafka-client.yaml') };
  writeFileSync(files.server, `apiVersion: v1
kind: Service
metadata: {name: kafka}
spec:
  selector: {app: kafka}
  ports: [{name: tcp-kafka, port: 9092}]
${deployment('kafka', server, '{containerPort: 9092}')}`);
  writeFileSync(files.client, deployment('kafka-client', client, ''));
  return files;
}

test('the demo\'s service graph and one page view\'s trace (network plain)', { timeout: 120_000 }, async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const ok = (r: CliResult): string => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const apply = (file: string) => ok(mesh.weft('apply', '-f', file));
  const started = performance.now();
  const took = (what: string) => t.diagnostic(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  ok(mesh.weft('install', '--set', 'profile=demo', '-y', '--timeout', '60'));
  ok(mesh.weft('label', 'namespace', 'default', 'istio-injection=enabled'));
  for (const file of Object.values(DEMO_MANIFESTS)) apply(file);
  const kafka = kafkaManifests(mesh.home);
  apply(kafka.server);
  const external = await startExternalServer('127.0.0.1');
  t.after(() => external.close());
  apply(egressManifests(mesh.home, external));
  apply(egressRouting(mesh.home, 'mutual'));
  const allReady = (workloads: number) => until(`${workloads} pods 2/2`, async () => {
    const pods = await mesh.pods('default');
    return pods.length === workloads && pods.every((p) => readyCount(p) === '2/2') ? true : undefined;
  }, 60_000);
  await allReady(8); // productpage, details, reviews x3, ratings, kafka, egress-client
  // The TCP client comes once the mesh has long known kafka: a sidecar given its first config
  // before the Service reached the control plane would pass its CONNECT through as an unknown
  // host (plaintext, Istio's PassthroughCluster), and that connection would stay in the graph.
  apply(kafka.client);
  await allReady(9);
  const istiod = await until('istiod ready', async () => (await mesh.pods('istio-system')).find((p) => p.metadata.name.startsWith('istiod-') && readyCount(p) === '1/1'), 30_000);
  took('installed and deployed');

  const status = mesh.json<RuntimeStatus>('status', '-o', 'json');
  assert.ok(status.ingress.http, 'weft status names the ingress address');
  assert.ok(status.tracing, 'weft status names the trace store');
  const base = status.ingress.http;
  const client = (await mesh.pods('default')).find((p) => p.metadata.name.startsWith('egress-client-'));
  assert.ok(client?.status.podIP);
  await until('a product page with reviews', async () => ((await httpGet(`${base}/productpage`)).body.includes('reviews-v') ? true : undefined), 30_000);
  await until('the external host through the egress gateway', async () => ((await httpGet(`http://${client.status.podIP}:9080/`)).body === '200 external answer to /hello' ? true : undefined), 30_000);
  // Rates start at a proxy's first scrape: wait until the control plane has scraped every proxy.
  const monitoring = `http://${istiod.status.podIP}:15014`;
  const proxies = 9 + (await mesh.pods('istio-system')).filter((p) => p.metadata.name.includes('gateway')).length;
  await until(`${proxies} proxies scraped`, async () => ((JSON.parse((await httpGet(`${monitoring}/debug/graph`)).body) as ServiceGraph).proxies.scraped === proxies ? true : undefined), 20_000);
  took('every proxy scraped');
  // Every reviews version (round robin) and so ratings from v2 and v3.
  for (let i = 0; i < 12; i++) assert.equal((await httpGet(`${base}/productpage`)).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await httpGet(`http://${client.status.podIP}:9080/`)).status, 200);
  took('traffic sent');

  const expectedEdges = [
    'service/default/details -> workload/default/details-v1 http mTLS',
    'service/default/egress-client -> workload/default/egress-client http plaintext',
    'service/default/kafka -> workload/default/kafka tcp mTLS',
    'service/default/productpage -> workload/default/productpage-v1 http mTLS',
    'service/default/ratings -> workload/default/ratings-v1 http mTLS',
    'service/default/reviews -> workload/default/reviews-v1 http mTLS',
    'service/default/reviews -> workload/default/reviews-v2 http mTLS',
    'service/default/reviews -> workload/default/reviews-v3 http mTLS',
    'service/istio-system/istio-egressgateway -> workload/istio-system/istio-egressgateway http mTLS',
    'unknown -> service/default/egress-client http plaintext',
    'workload/default/egress-client -> service/istio-system/istio-egressgateway http mTLS',
    'workload/default/kafka-client -> service/default/kafka tcp mTLS',
    'workload/default/productpage-v1 -> service/default/details http mTLS',
    'workload/default/productpage-v1 -> service/default/reviews http mTLS',
    'workload/default/reviews-v2 -> service/default/ratings http mTLS',
    'workload/default/reviews-v3 -> service/default/ratings http mTLS',
    `workload/istio-system/istio-egressgateway -> external/${EXTERNAL_HOST} http plaintext`,
    'workload/istio-system/istio-ingressgateway -> service/default/productpage http mTLS',
  ];
  const show = (g: ServiceGraph) => g.edges.map((e) => `${e.source} -> ${e.target} ${e.protocol} ${e.mtls ? 'mTLS' : 'plaintext'}`);
  let last: ServiceGraph | undefined;
  const graph = await until('every edge in the graph', async () => {
    last = JSON.parse((await httpGet(`${monitoring}/debug/graph?window=60s`)).body) as ServiceGraph;
    const tcp = last.edges.find((e) => e.protocol === 'tcp' && e.source.includes('kafka-client'));
    return show(last).length >= expectedEdges.length && (tcp?.tcp?.bytesPerSecond ?? 0) > 0 ? last : undefined;
  }, 20_000).catch(async (err: Error) => {
    // The TCP series each sidecar reports (response flags say why a tunnel went nowhere).
    for (const p of await mesh.pods('default')) {
      const stats = await httpGet(`http://${p.status.podIP}:15090/stats/prometheus`).catch((e: Error) => ({ body: e.message }));
      t.diagnostic(p.metadata.name + ' ' + stats.body.split('\n').filter((l) => l.includes('tcp_sent_bytes_total{')).join('\n'));
    }
    return assert.fail(`${err.message}\n${JSON.stringify(last && show(last), null, 1)}`);
  });
  took('graph complete');

  // kafka's sidecar learns the TCP client's workload from the metadata exchange on the mTLS
  // connection; without it the source is unknown, which is checked apart to name the cause.
  const tcpUnknownSource = 'unknown -> service/default/kafka tcp mTLS';
  await t.test('the graph has exactly the expected edges, with protocols and mTLS', () => {
    assert.deepEqual(show(graph).filter((e) => e !== tcpUnknownSource).sort(), [...expectedEdges].sort());
    for (const e of graph.edges.filter((x) => x.protocol === 'http')) assert.ok((e.requestRate ?? 0) > 0 && e.errorRate === 0, JSON.stringify(e));
    const tcp = graph.edges.find((e) => e.source === 'workload/default/kafka-client');
    assert.ok(tcp?.tcp && tcp.tcp.bytesPerSecond > 0 && tcp.tcp.activeConnections >= 1, JSON.stringify(tcp));
  });

  await t.test('the TCP server\'s proxy knows the client\'s workload, as after Istio\'s metadata exchange', () => {
    assert.ok(!show(graph).includes(tcpUnknownSource), tcpUnknownSource);
  });

  await t.test('the graph has exactly the expected nodes; reviews versions grouped by app', () => {
    assert.deepEqual(graph.nodes.map((n) => `${n.id} ${n.kind} ${n.app ?? ''} ${n.version ?? ''}`.trim()).sort(), [
      `external/${EXTERNAL_HOST} external`,
      'service/default/details service',
      'service/default/egress-client service',
      'service/default/kafka service',
      'service/default/productpage service',
      'service/default/ratings service',
      'service/default/reviews service',
      'service/istio-system/istio-egressgateway service',
      'unknown unknown',
      'workload/default/details-v1 workload details v1',
      'workload/default/egress-client workload egress-client v1',
      'workload/default/kafka-client workload kafka-client v1',
      'workload/default/kafka workload kafka v1',
      'workload/default/productpage-v1 workload productpage v1',
      'workload/default/ratings-v1 workload ratings v1',
      'workload/default/reviews-v1 workload reviews v1',
      'workload/default/reviews-v2 workload reviews v2',
      'workload/default/reviews-v3 workload reviews v3',
      'workload/istio-system/istio-egressgateway gateway istio-egressgateway',
      'workload/istio-system/istio-ingressgateway gateway istio-ingressgateway',
    ].sort());
  });

  await t.test('one page view is one trace: gateway -> productpage -> reviews -> ratings, children inside parents', async () => {
    // The page carries no trace headers: the gateway starts the trace, every hop continues it.
    const since = Date.now();
    // Only reviews v2 and v3 call ratings, and the load balancer picks at random: keep viewing the
    // page (one view per look at the store, a few to start) until one trace reaches ratings.
    let views = 0;
    const view = async () => {
      views++;
      assert.equal((await httpGet(`${base}/productpage`)).status, 200);
    };
    for (let i = 0; i < 4; i++) await view();
    const chain = await until(`a page view's trace down to ratings`, async () => {
      if (views < 40) await view();
      const traces = JSON.parse((await httpGet(`${status.tracing}/api/v2/traces?serviceName=ratings.default&lookback=60000&limit=50`)).body) as Span[][];
      for (const spans of traces) {
        const ratings = spans.find((s) => s.localEndpoint?.serviceName === 'ratings.default' && s.kind === 'SERVER');
        const root = spans.find((s) => s.parentId === undefined);
        if (!ratings || !root || (root.timestamp ?? 0) < since * 1000) continue;
        const byId = new Map(spans.map((s) => [s.id, s]));
        const path: Span[] = [];
        for (let s: Span | undefined = ratings; s; s = s.parentId === undefined ? undefined : byId.get(s.parentId)) path.unshift(s);
        // Each proxy flushes its spans on its own: wait until the chain reaches the root.
        if (path[0]?.parentId !== undefined) continue;
        return path;
      }
      return undefined;
    }, 15_000);
    assert.deepEqual(chain.map((s) => `${s.localEndpoint?.serviceName ?? ''} ${s.kind ?? ''}`), [
      'istio-ingressgateway.istio-system SERVER',
      'productpage.default SERVER',
      'productpage.default CLIENT',
      'reviews.default SERVER',
      'reviews.default CLIENT',
      'ratings.default SERVER',
    ]);
    assert.equal(chain[0]?.parentId, undefined, 'the gateway started the trace');
    for (let i = 1; i < chain.length; i++) {
      const [parent, child] = [chain[i - 1] as Span, chain[i] as Span];
      const at = (s: Span) => [s.timestamp ?? 0, (s.timestamp ?? 0) + (s.duration ?? 0)] as const;
      // Each proxy timestamps its own spans (microseconds, separate processes): allow 2 ms of skew.
      const slack = 2_000;
      // What causality guarantees (OpenTelemetry: a parent never starts after its child): the
      // child starts after its parent started and before its parent ended. Not its end: each
      // proxy stamps a span's end once it is done with the stream, after its last byte went out,
      // and on a loaded host the caller can read that byte and finish first (Zipkin's and
      // Jaeger's UIs correct such spans for display; nothing promises the raw times nest).
      assert.ok(at(child)[0] >= at(parent)[0] - slack && at(child)[0] <= at(parent)[1] + slack, `${child.localEndpoint?.serviceName} ${child.kind} ${JSON.stringify(at(child))} starts inside ${JSON.stringify(at(parent))}`);
      assert.ok(at(child)[1] > at(parent)[0], `${child.localEndpoint?.serviceName} ${child.kind} ends after its parent started`);
    }
  });
});
