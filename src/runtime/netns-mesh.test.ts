/**
 * `--network netns` end to end (root on Linux only): pods in their own network namespaces, an
 * injected client calling a service by name with no proxy setting (captured outbound, original
 * destination), inbound captured into the sidecar, an uninjected pod reaching the service's VIP
 * (kube-proxy-like DNAT), an app calling its own service through its own sidecar (out, then in
 * with mTLS), the ingress on the host; `weft down` leaves no namespace or rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMeshWith, until, httpGet, readyCount, istiodManifests } from './testing.js';
import { weftHome } from './home.js';
import type { RuntimeStatus } from './status.js';
import { NetnsNetwork } from './network/index.js';

// Root on Linux with iproute2, iptables and the original-destination addon (the provider says what is missing).
const problem = await NetnsNetwork.problem();
const skip = problem === undefined ? false : `netns mode cannot run here: ${problem}`;

function manifests(dir: string): string {
  writeFileSync(join(dir, 'hello.js'), `require('http').createServer((q, s) => s.end('hello from ' + process.env.POD)).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  // The client knows nothing of the mesh: it calls http://hello.shop:9080/ directly, and its own
  // service (client.shop) for /self, which answers /whoami.
  writeFileSync(join(dir, 'client.js'), `const http = require('http');
http.createServer((q, s) => {
  if (q.url === '/ready') return s.end('ok');
  if (q.url === '/whoami') return s.end('client ' + process.env.POD);
  http.get(q.url === '/self' ? 'http://client.shop:9080/whoami' : 'http://hello.shop:9080/', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => s.end(r.statusCode + ' ' + b)); })
    .on('error', (e) => { s.statusCode = 502; s.end(e.message); });
}).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  const app = (name: string, script: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: ${name}
        image: node
        command: [node, ${JSON.stringify(join(dir, script))}]
        env:
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports: [{containerPort: 9080}]
`;
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, istiodManifests(['--debounce', '20ms']) + `apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec:
      containers: [{name: istio-proxy, image: auto}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: client, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [web]
  http:
  - route:
    - destination: {host: client.shop.svc.cluster.local, port: {number: 9080}}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
${app('hello', 'hello.js')}${app('client', 'client.js')}`);
  return file;
}

test('netns: captured traffic by service name, VIPs for pods without a sidecar, ingress, clean teardown', { skip }, async (t) => {
  const mesh = await startMeshWith(t, manifests, '--network', 'netns');
  const pods = await until('2/2 pods', async () => {
    const ps = await mesh.pods('shop');
    return ps.length === 2 && ps.every((p) => readyCount(p) === '2/2') ? ps : undefined;
  }, 30_000);
  const client = pods.find((p) => p.metadata.name.startsWith('client-'));
  const hello = pods.find((p) => p.metadata.name.startsWith('hello-'));
  assert.ok(client?.status.podIP && hello);
  assert.equal(mesh.json<RuntimeStatus>('status', '-o', 'json').network, 'netns');

  // Host -> client pod (inbound captured) -> client app calls hello.shop (outbound captured) -> hello.
  const direct = await until('client reaches hello', async () => {
    const r = await httpGet(`http://${client.status.podIP}:9080/`);
    return r.status === 200 && r.body.startsWith('200 ') ? r.body : undefined;
  });
  assert.equal(direct, `200 hello from ${hello.metadata.name}`);

  // The client app calls its own service: its sidecar picks its own pod, the connection is captured
  // back into its inbound side (Istio's rules), mTLS and all, and the app answers itself.
  const self = await until('client reaches itself', async () => {
    const r = await httpGet(`http://${client.status.podIP}:9080/self`);
    return r.status === 200 && r.body.startsWith('200 ') ? r.body : undefined;
  });
  assert.equal(self, `200 client ${client.metadata.name}`);
  const metrics = await httpGet(`http://${client.status.podIP}:15090/stats/prometheus`);
  const selfInbound = metrics.body.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"')
    && l.includes('source_workload="client"') && l.includes('destination_workload="client"'));
  assert.ok(selfInbound, `the client's sidecar reported the call on its inbound side:\n${metrics.body}`);
  assert.match(selfInbound, /connection_security_policy="mutual_tls"/);

  // Through the ingress on the host.
  const url = mesh.json<RuntimeStatus>('status', '-o', 'json').ingress.http;
  assert.ok(url);
  const viaIngress = await until('ingress', async () => {
    const r = await httpGet(`${url}/`);
    return r.status === 200 ? r.body : undefined;
  });
  assert.equal(viaIngress, `200 hello from ${hello.metadata.name}`);

  // A pod without a sidecar (the gateway's) reaches the service VIP by name.
  const [gateway] = await mesh.pods('istio-system').then((ps) => ps.filter((p) => p.metadata.name.startsWith('istio-ingressgateway-')));
  const meshId = weftHome({ WEFT_HOME: mesh.home }).meshId;
  const netns = `weft-${meshId}-${gateway?.status.podIP?.split('.')[3] ?? ''}`;
  const fromGateway = await until('VIP from an uninjected pod', () => {
    const out = execFileSync('ip', ['netns', 'exec', netns, process.execPath, '-e',
      `require('http').get('http://hello.shop.svc.cluster.local:9080/', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(b)); }).on('error', (e) => console.log('error ' + e.message))`], { encoding: 'utf8' });
    // Thrown, so a timeout reports what the pod last got.
    if (!out.startsWith('hello from')) throw new Error(`the pod got: ${out.trim()}`);
    return out.trim();
  }, 30_000);
  assert.equal(fromGateway, `hello from ${hello.metadata.name}`);

  assert.equal(mesh.weft('down').code, 0);
  await until('daemon exited', () => (mesh.daemon?.exitCode !== null ? true : undefined));
  assert.deepEqual(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`weft-${meshId}-`)), []);
  const rules = execFileSync('iptables-save', { encoding: 'utf8' });
  assert.equal(rules.includes(`WEFT-${meshId}-`) || rules.includes(`weft:${meshId}`), false, 'no rule of this mesh is left');
});
