/**
 * The dashboard's server on a real socket: the page and its bundle (same origin only, built at
 * build time; node_modules is not served), the JSON API over resources loaded from YAML, a real trace
 * store and the push server's status, and the event stream sending graph and workload changes.
 * The graph is a fixture in the documented JSON shape (src/telemetry/graph/compute.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { loadResources, type AnyResource } from '../resources/index.js';
import { TraceStore } from '../telemetry/index.js';
import type { ProxyStatus } from '../distribution/index.js';
import type { ServiceGraph } from '../telemetry/graph/index.js';
import { tableFor } from '../cli/commands/get-tables.js';
import { DashboardServer, type DashboardData } from './index.js';

const YAML = `apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-abc, namespace: default, labels: {app: reviews, version: v1}, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  containers: [{name: reviews, image: demo}, {name: istio-proxy, image: auto}]
status:
  phase: Running
  podIP: 127.9.0.4
  containerStatuses:
  - {name: reviews, ready: true, restartCount: 2}
  - {name: istio-proxy, ready: true, restartCount: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: ratings-v1-xyz, namespace: other}
spec:
  containers: [{name: ratings, image: demo}]
status:
  phase: Pending
  containerStatuses:
  - {name: ratings, ready: false, restartCount: 0, state: {waiting: {reason: CrashLoopBackOff}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v9}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: default}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews}}
    spec:
      containers:
      - name: reviews
        image: demo
        env: [{name: DB_PASSWORD, value: hunter2}, {name: LOG_LEVEL, value: debug}]
`;

function resources(): AnyResource[] {
  const loaded = loadResources([{ file: 'mesh.yaml', text: YAML }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
  return loaded.resources;
}

const PROXIES: ProxyStatus[] = [{
  nodeId: 'reviews-v1-abc.default', role: 'sidecar', namespace: 'default', revision: '', replica: 'istiod-a', connectedAt: 0,
  sentVersion: 'v-2', ackedVersion: 'v-1', nackedVersion: 'v-2', nackError: 'bad listener', state: 'STALE',
}];

function graphFixture(rate: number): ServiceGraph {
  return {
    generatedAt: new Date().toISOString(), window: '60s', windowSeconds: 60,
    nodes: [
      { id: 'workload/default/productpage-v1', kind: 'workload', namespace: 'default', name: 'productpage-v1', app: 'productpage', version: 'v1', workload: 'productpage-v1' },
      { id: 'service/default/reviews', kind: 'service', namespace: 'default', name: 'reviews', service: 'reviews.default.svc.cluster.local' },
    ],
    edges: [{ id: 'e1', source: 'workload/default/productpage-v1', target: 'service/default/reviews', protocol: 'http', requestRate: rate, errorRate: 0, p50Ms: 3, p99Ms: 9, responses: { 200: rate }, mtls: true, mtlsPercent: 100 }],
    proxies: { scraped: 2, failing: [] },
  };
}

async function start(t: { after: (fn: () => Promise<void>) => void }, extra: Partial<DashboardData> = {}): Promise<{ base: string; traffic: { rate: number } }> {
  const traces = new TraceStore();
  const now = Date.now() * 1000;
  traces.add([
    { traceId: 'aaaaaaaaaaaaaaaa', id: '0000000000000001', kind: 'SERVER', name: 'productpage.default.svc.cluster.local:9080/productpage', timestamp: now, duration: 9000, localEndpoint: { serviceName: 'istio-ingressgateway.istio-system' } },
    { traceId: 'aaaaaaaaaaaaaaaa', id: '0000000000000002', parentId: '0000000000000001', kind: 'SERVER', name: 'productpage.default.svc.cluster.local:9080/*', timestamp: now + 100, duration: 8000, localEndpoint: { serviceName: 'productpage.default' }, tags: { response_flags: '-' } },
  ]);
  const traffic = { rate: 1.5 };
  const data: DashboardData = {
    replica: 'istiod-a',
    resources,
    proxies: () => PROXIES,
    configDump: (id: string) => (id === 'reviews-v1-abc.default' ? { version: 'v-1', listeners: [], secrets: [{ name: 'default', privateKey: '[redacted]' }] } : undefined),
    graph: () => graphFixture(traffic.rate),
    traces,
    ...extra,
  };
  const server = new DashboardServer({ data, port: 0, liveIntervalMs: 50 });
  const port = await server.listen();
  t.after(() => server.close());
  return { base: `http://127.0.0.1:${port}`, traffic };
}

async function get(url: string): Promise<{ status: number; type: string; csp: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '', body: await res.text() };
}

test('the page and its one bundle (Preact, uPlot and cytoscape, built by `npm run build`) are served from this origin, with a same-origin CSP', async (t) => {
  const { base } = await start(t);
  const page = await get(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.type, /^text\/html/);
  assert.match(page.csp, /default-src 'self'; script-src 'self'/);
  const scripts = [...page.body.matchAll(/(?:src|href)="([^"#][^"]*)"/g)].map((m) => m[1] ?? '');
  assert.deepEqual(scripts, ['/app/app.css', '/app/app.js'], 'nothing from another host');
  const app = await get(`${base}/app/app.js`);
  assert.equal(app.status, 200);
  assert.match(app.type, /^text\/javascript/);
  // Asserted with ok(), not match(): a failure must not print half a megabyte of script.
  assert.ok(!app.body.includes('The dashboard was not built'), 'the bundle was built (npm run build)');
  assert.ok(app.body.length > 100_000, `the libraries are in the bundle (${app.body.length} bytes)`);
  assert.ok(!/\bimport\s*\(|^import[\s{]|[;}]import[\s{*]/m.test(app.body), 'one self-contained file: no import of another module');
  // A URL in a comment is harmless (cytoscape cites jQuery's source); one that is loaded is not.
  assert.ok(!/(?:from\s*|import\s*\(\s*|importScripts\s*\(\s*|\.src\s*=\s*|url\(\s*)['"]?(?:https?:)?\/\//i.test(app.body), 'loads nothing from elsewhere');
  const css = await get(`${base}/app/app.css`);
  assert.equal(css.status, 200);
  assert.match(css.type, /^text\/css/);
  assert.match(css.body, /\.uplot/, 'uPlot\'s stylesheet is in the bundle');
  assert.ok(!/@import|url\(\s*['"]?(?:https?:)?\/\//i.test(css.body), 'the stylesheet loads nothing from elsewhere');
  for (const path of ['/vendor/cytoscape.mjs', '/app/main.tsx', '/app/../server.js', '/node_modules/preact/package.json']) assert.equal((await get(`${base}${path}`)).status, 404, path);
});

test('read-only, and refuses host names that are not an IP or localhost (DNS rebinding)', async (t) => {
  const { base } = await start(t);
  const post = await fetch(`${base}/api/workloads`, { method: 'POST', body: '{}' });
  assert.equal(post.status, 405);
  // fetch() will not set Host; a raw request can.
  const withHost = (host: string) => new Promise<number>((resolve, reject) => {
    const url = new URL(base);
    http.get({ host: url.hostname, port: url.port, path: '/api/overview', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
  assert.equal(await withHost('attacker.example:20001'), 403);
  assert.equal(await withHost('127.0.0.1.attacker.example'), 403);
  assert.equal(await withHost('localhost:20001'), 200);
  assert.equal(await withHost('[::1]:20001'), 200);
  assert.equal(await withHost('127.9.0.3:20001'), 200);
});

test('workloads: READY, STATUS and RESTARTS as `weft get pods` prints them, joined with the proxy\'s sync status', async (t) => {
  const { base } = await start(t);
  const { items } = JSON.parse((await get(`${base}/api/workloads`)).body) as { items: { namespace: string; name: string; ready: string; status: string; restarts: number; proxy: { state: string; version: string; nack: string } | null }[] };
  const pods = resources().filter((r) => r.kind === 'Pod').map((r) => r.raw);
  const table = tableFor('Pod', pods, false, true, Date.now());
  assert.deepEqual(items.map((w) => [w.namespace, w.name, w.ready, w.status, String(w.restarts)]), table.rows.map((r) => r.slice(0, 5)));
  assert.deepEqual(items.map((w) => [w.name, w.ready, w.status, w.restarts]), [['reviews-v1-abc', '2/2', 'Running', 3], ['ratings-v1-xyz', '0/1', 'CrashLoopBackOff', 0]]);
  assert.deepEqual(items[0]?.proxy, { nodeId: 'reviews-v1-abc.default', state: 'STALE', version: 'v-1', replica: 'istiod-a', revision: 'default', nack: 'NACK v-2: bad listener' });
  assert.equal(items[1]?.proxy, null);
  const only = JSON.parse((await get(`${base}/api/workloads?namespace=other`)).body) as { items: unknown[] };
  assert.equal(only.items.length, 1);
  const overview = JSON.parse((await get(`${base}/api/overview`)).body) as { namespaces: string[] };
  assert.deepEqual(overview.namespaces, ['default', 'other']);
});

test('config: applied resources with the analyzer\'s messages about each, and one resource as applied', async (t) => {
  const { base } = await start(t);
  const config = JSON.parse((await get(`${base}/api/config?namespace=default`)).body) as { rows: { kind: string; name: string; source: string; messages: { code: string; level: string; message: string }[] }[] };
  assert.deepEqual(config.rows.map((r) => `${r.kind}/${r.name}`), ['Deployment/reviews-v1', 'VirtualService/reviews'], 'Pods are the workloads page, not config');
  const vs = config.rows[1];
  assert.equal(vs?.source, 'mesh.yaml:23');
  assert.ok(vs?.messages.some((m) => m.code === 'IST0101' && m.level === 'Error' && /v9/.test(m.message)), JSON.stringify(vs?.messages));
  const object = JSON.parse((await get(`${base}/api/config/object?kind=VirtualService&namespace=default&name=reviews`)).body) as { spec: { hosts: string[] } };
  assert.deepEqual(object.spec.hosts, ['reviews']);
  assert.equal((await get(`${base}/api/config/object?kind=Pod&namespace=default&name=reviews-v1-abc`)).status, 404);
  const deployment = (await get(`${base}/api/config/object?kind=Deployment&namespace=default&name=reviews-v1`)).body;
  assert.doesNotMatch(deployment, /hunter2/, 'a secret-looking env value is not shown');
  assert.match(deployment, /"DB_PASSWORD","value":"\[redacted\]"/);
  assert.match(deployment, /"LOG_LEVEL","value":"debug"/);
});

test('proxy config comes from the control plane\'s redacted dump; unknown proxies get 404', async (t) => {
  const { base } = await start(t);
  const dump = JSON.parse((await get(`${base}/api/proxy-config?proxyID=reviews-v1-abc.default`)).body) as { config: { secrets: { privateKey: string }[] } };
  assert.equal(dump.config.secrets[0]?.privateKey, '[redacted]');
  assert.equal((await get(`${base}/api/proxy-config?proxyID=nobody.default`)).status, 404);
  assert.equal((await get(`${base}/api/proxy-config`)).status, 400);
});

test('traces: Zipkin\'s v2 query API over the store on the dashboard\'s origin', async (t) => {
  const { base } = await start(t);
  assert.deepEqual(JSON.parse((await get(`${base}/api/zipkin/api/v2/services`)).body), ['istio-ingressgateway.istio-system', 'productpage.default']);
  const found = JSON.parse((await get(`${base}/api/zipkin/api/v2/traces?serviceName=productpage.default&minDuration=1000`)).body) as { id: string }[][];
  assert.deepEqual(found.map((tr) => tr.map((s) => s.id).sort()), [['0000000000000001', '0000000000000002']]);
  assert.equal((await get(`${base}/api/zipkin/api/v2/trace/bbbbbbbbbbbbbbbb`)).status, 404);
  assert.equal((await get(`${base}/api/zipkin/api/v2/trace/not-hex`)).status, 400);
  const { base: none } = await start(t, { traces: undefined });
  assert.equal((await get(`${none}/api/zipkin/api/v2/services`)).status, 404);
});

test('graph: the window is checked; without a graph the API says so', async (t) => {
  const { base } = await start(t);
  const graph = JSON.parse((await get(`${base}/api/graph?window=30s`)).body) as ServiceGraph;
  assert.equal(graph.edges[0]?.requestRate, 1.5);
  assert.equal((await get(`${base}/api/graph?window=1h`)).status, 400);
  assert.equal((await get(`${base}/api/graph?window=soon`)).status, 400);
  const { base: none } = await start(t, { graph: undefined });
  assert.equal((await get(`${none}/api/graph`)).status, 404);
});

/** Reads server-sent events until `want` of them arrived. */
function readEvents(url: string, want: number, onEvent: (count: number) => void = () => {}): Promise<{ event: string; data: unknown }[]> {
  return new Promise((resolve, reject) => {
    const got: { event: string; data: unknown }[] = [];
    const req = http.get(url, (res) => {
      assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) {
            got.push({ event, data: JSON.parse(data) });
            onEvent(got.length);
          }
          if (got.length >= want) {
            req.destroy();
            resolve(got);
            return;
          }
        }
      });
    });
    req.on('error', (err) => (got.length >= want ? undefined : reject(err)));
  });
}

test('the event stream sends workloads and the graph at once, then a graph again only when it changed', async (t) => {
  const { base, traffic } = await start(t);
  // Once the first two are out, the traffic changes: the next event must be the new graph.
  const got = await readEvents(`${base}/api/events?window=60s`, 3, (n) => {
    if (n === 2) setTimeout(() => (traffic.rate = 4), 200);
  });
  assert.deepEqual(got.map((e) => e.event), ['workloads', 'graph', 'graph']);
  assert.equal((got[1]?.data as ServiceGraph).edges[0]?.requestRate, 1.5);
  assert.equal((got[2]?.data as ServiceGraph).edges[0]?.requestRate, 4);
});
