/**
 * The mesh on the runtime, with real processes: a control plane pod (`weft control-plane`,
 * started by the runtime with its store as config), an injected app that comes up READY 2/2 with
 * its config pushed by that control plane, traffic through the sidecar both ways (the app calling
 * its own service passes its sidecar out and back in, with mTLS), and the
 * ingress gateway's LoadBalancer Service on the host surviving the loss of one replica.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMeshWith, until, httpGet, readyCount, helloApp, istiodManifests, type PodItem } from './testing.js';
import type { RuntimeStatus } from './status.js';

function manifests(dir: string): string {
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, istiodManifests(['--port', '15010', '--monitoring-port', '15014', '--debounce', '20ms'], { revision: 'default' }) + `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: installed-state, namespace: istio-system}
spec:
  values:
    global:
      proxy:
        resources:
          limits: {memory: 100Mi}
---
apiVersion: v1
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
  replicas: 2
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {app: istio-ingressgateway, istio: ingressgateway}}
    spec:
      containers:
      - name: istio-proxy
        image: auto
        ports: [{containerPort: 8080, name: http2}]
---
` + helloApp(dir));
  return file;
}

test('injected pods run 2/2 with config from a control plane pod; the ingress survives losing a gateway replica', async (t) => {
  const mesh = await startMeshWith(t, manifests);

  const app = await until('hello 2/2', async () => (await mesh.pods('shop')).find((p) => readyCount(p) === '2/2'), 30_000);
  assert.deepEqual(app.spec.containers.map((c) => c.name), ['hello', 'istio-proxy']);
  assert.equal(app.spec.containers[1]?.resources?.limits?.memory, String(100 * 1024 * 1024), 'the install\'s proxy memory limit');
  const table = mesh.weft('get', 'pods', '-n', 'shop', '-o', 'wide').stdout;
  assert.match(table, new RegExp(`${app.metadata.name}\\s+2/2\\s+Running\\s+0\\s+\\S+\\s+${app.status.podIP?.replace(/\./g, '\\.')}\\s+weft-local\\s+100Mi`));

  // The control plane pod pushed the sidecar its config and sees it in sync.
  const [istiod] = await mesh.pods('istio-system').then((ps) => ps.filter((p) => p.metadata.name.startsWith('istiod-')));
  assert.ok(istiod?.status.podIP);
  const syncz = await until('sidecar SYNCED', async () => {
    const r = await httpGet(`http://${istiod.status.podIP}:15014/debug/syncz`);
    const s = JSON.parse(r.body) as { proxies: { nodeId: string; state: string; auth?: string }[] };
    return s.proxies.find((p) => p.nodeId === `${app.metadata.name}.shop` && p.state === 'SYNCED');
  });
  assert.ok(syncz);
  // Over TLS on 15012, verified against the pod's root-cert.pem; the first connection has only its token.
  assert.equal(syncz.auth, 'token');

  // Inbound: the pod address is the sidecar, which hands the request to the app's own address.
  const inbound = await until('inbound through the sidecar', async () => {
    const r = await httpGet(`http://${app.status.podIP}:9080/`);
    return r.status === 200 ? r : undefined;
  });
  assert.equal(inbound.body, `hello from ${app.metadata.name} proto=http`);
  // Outbound: the sidecar as the app's HTTP proxy routes by service name.
  const outbound = await until('outbound by service name', async () => {
    const r = await httpGet('http://hello.shop.svc.cluster.local:9080/', { proxy: `http://${app.status.podIP}:15001` });
    return r.status === 200 ? r : undefined;
  });
  // The only replica is this pod: the app called its own service, through its sidecar's outbound
  // side and back in through its inbound side with mTLS (the sidecar reports it as destination).
  assert.equal(outbound.body, `hello from ${app.metadata.name} proto=http`);
  const metrics = (await httpGet(`http://${app.status.podIP}:15090/stats/prometheus`)).body;
  const selfInbound = metrics.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes('reporter="destination"') && l.includes('source_workload="hello"') && l.includes('destination_workload="hello"'));
  assert.match(selfInbound ?? metrics, /connection_security_policy="mutual_tls"/);

  // The ingress: the host port forwards to both gateway replicas; killing one fails no request.
  const status = mesh.json<RuntimeStatus>('status', '-o', 'json');
  assert.equal(status.network, 'plain');
  assert.deepEqual(status.gateways.map((g) => `${g.name} ${g.ready}/${g.replicas}`), ['istio-ingressgateway 2/2']);
  const url = status.ingress.http;
  assert.ok(url);
  await until('through the ingress', async () => ((await httpGet(`${url}/`)).status === 200 ? true : undefined));
  const gateways = (await mesh.pods('istio-system')).filter((p: PodItem) => p.metadata.name.startsWith('istio-ingressgateway-'));
  assert.equal(gateways.length, 2);
  const victim = Number(gateways[0]?.status.containerStatuses?.[0]?.containerID?.replace('weft://', ''));
  const codes: number[] = [];
  for (let i = 0; i < 20; i++) {
    if (i === 5) process.kill(victim, 'SIGKILL');
    codes.push((await httpGet(`${url}/`)).status);
  }
  assert.deepEqual(codes, new Array(20).fill(200));
  // Every control plane pod replaced (new addresses): the sidecar finds the new one through the
  // revision's stable address and is in sync with it.
  assert.equal(mesh.weft('rollout', 'restart', 'deployment/istiod', '-n', 'istio-system').code, 0);
  const newIstiod = await until('a new istiod, the old one gone', async () => {
    const cps = (await mesh.pods('istio-system')).filter((p) => p.metadata.name.startsWith('istiod-'));
    const [only] = cps;
    return cps.length === 1 && only && only.metadata.name !== istiod.metadata.name && readyCount(only) === '1/1' ? only : undefined;
  }, 20_000);
  const resynced = await until('sidecar SYNCED with the new istiod', async () => {
    const r = await httpGet(`http://${newIstiod.status.podIP}:15014/debug/syncz`);
    return (JSON.parse(r.body) as { proxies: { nodeId: string; state: string; auth?: string }[] }).proxies.find((p) => p.nodeId === `${app.metadata.name}.shop` && p.state === 'SYNCED');
  }, 20_000);
  assert.equal(resynced.auth, 'certificate', 'the reconnect presents the workload certificate the sidecar got meanwhile');

  // The killed replica comes back and is counted.
  const restarted = await until('gateway restarted', async () => (await mesh.pods('istio-system')).find((p) => p.metadata.name === gateways[0]?.metadata.name && (p.status.containerStatuses?.[0]?.restartCount ?? 0) === 1));
  assert.ok(restarted);
});
