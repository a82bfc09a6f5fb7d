/**
 * The daemon with real processes in a temp WEFT_HOME: apply/get/label/delete through the CLI,
 * all-or-nothing refusal, one daemon per home, and restarts (clean and crashed) that lose no
 * resource and leave no process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestMesh, startMeshWith, until, httpGet, readyCount, CLI, type PodItem } from './testing.js';
import { processAlive } from './lock.js';

/** Alive and not a zombie (an orphan killed in a container may wait for a reaper that never comes). */
function running(pid: number): boolean {
  if (!processAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const SERVER = `require('http').createServer((q, s) => s.end('hello from ' + process.env.POD_NAME + ' in ' + process.env.POD_NAMESPACE)).listen(9080, process.env.WEFT_BIND_ADDRESS);`;

function manifests(dir: string): string {
  writeFileSync(join(dir, 'server.js'), SERVER);
  const path = join(dir, 'app.yaml');
  writeFileSync(path, `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
      - name: cart
        image: node
        command: [node, ${JSON.stringify(join(dir, 'server.js'))}]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: POD_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        ports: [{containerPort: 9080}]
        readinessProbe:
          httpGet: {path: /, port: 9080}
`);
  return path;
}

function pods(mesh: TestMesh, ns = 'shop'): Promise<PodItem[]> {
  return mesh.pods(ns);
}

test('apply, get, label, delete through the daemon; bad input changes nothing', async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const file = manifests(mesh.home);

  const bad = join(mesh.home, 'bad.yaml');
  writeFileSync(bad, `apiVersion: apps/v1
kind: Deployment
metadata: {name: broken}
spec:
  replicas: -1
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers: [{name: b, image: x}]
`);
  const refused = mesh.weft('apply', '-f', file, '-f', bad);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bad\.yaml:5:\d+\) spec\.replicas: .*must be greater than or equal to 0/);
  assert.match(refused.stderr, /nothing was applied/);
  assert.equal(mesh.weft('get', 'namespaces', 'shop').code, 1, 'the valid part was not applied either');

  const applied = mesh.weft('apply', '-f', file);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(applied.stdout, 'namespace/shop created\nservice/cart created\ndeployment.apps/cart created\n');
  assert.equal(mesh.weft('apply', '-f', file).stdout, 'namespace/shop unchanged\nservice/cart unchanged\ndeployment.apps/cart unchanged\n');

  const pod = await until('cart ready', async () => (await pods(mesh)).find((p) => readyCount(p) === '1/1'));
  assert.match(pod.metadata.name, /^cart-[a-z0-9]{10}-[a-z0-9]{5}$/);
  assert.equal(pod.metadata.labels?.app, 'cart');
  assert.equal(pod.status.phase, 'Running');
  assert.ok(pod.status.podIP);
  const reply = await httpGet(`http://${pod.status.podIP}:9080/`);
  assert.equal(reply.body, `hello from ${pod.metadata.name} in shop`, 'downward API env reached the app');
  const table = mesh.weft('get', 'pods', '-n', 'shop');
  assert.match(table.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\ncart-\S+\s+1\/1\s+Running\s+0\s+\d+s\n$/);

  assert.equal(mesh.weft('label', 'namespace', 'shop', 'istio-injection=enabled').stdout, 'namespace/shop labeled\n');
  const ns = mesh.json<{ metadata: { labels?: Record<string, string> } }>('get', 'ns', 'shop', '-o', 'json');
  assert.equal(ns.metadata.labels?.['istio-injection'], 'enabled');
  mesh.weft('label', 'namespace', 'shop', 'istio-injection-');
  assert.equal(mesh.json<{ metadata: { labels?: Record<string, string> } }>('get', 'ns', 'shop', '-o', 'json').metadata.labels, undefined);

  const deleted = mesh.weft('delete', '-f', file);
  assert.equal(deleted.stdout, 'service/cart deleted\ndeployment.apps/cart deleted\nnamespace/shop deleted\n');
  await until('pods gone', async () => ((await pods(mesh)).length === 0 ? true : undefined));
});

test('one daemon per home; restarts, clean or crashed, lose no resource and leave no process', async (t) => {
  const mesh = await startMeshWith(t, manifests);
  const first = await until('cart ready', async () => (await pods(mesh)).find((p) => readyCount(p) === '1/1'));

  const second = spawnSync(process.execPath, [CLI, 'up', '--foreground', '--no-install'], { env: { ...process.env, WEFT_HOME: mesh.home }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(second.status, 1);
  assert.match(second.stderr, /already running for .* \(pid \d+\)/);

  // A crash leaves the socket, the lock and the containers behind.
  const appPid = Number(first.status.containerStatuses?.[0]?.containerID?.replace('weft://', ''));
  assert.ok(running(appPid));
  await mesh.crash();
  assert.ok(existsSync(join(mesh.home, 'runtime.sock')));
  assert.match(mesh.weft('get', 'pods').stderr, /not running/);

  await mesh.start();
  await until('the crashed daemon\'s container killed', () => (running(appPid) ? undefined : true), 5_000);
  const again = await until('cart ready after the crash', async () => (await pods(mesh)).find((p) => readyCount(p) === '1/1'));
  assert.notEqual(again.metadata.name, first.metadata.name);

  // A clean stop and start: the store is all that is needed.
  assert.equal(mesh.weft('down').stdout, 'runtime stopped\n');
  await new Promise<void>((resolve) => (mesh.daemon?.exitCode !== null ? resolve() : mesh.daemon.once('exit', () => resolve())));
  assert.equal(existsSync(join(mesh.home, 'runtime.sock')), false);
  await mesh.start();
  const deployments = mesh.json<{ items: { metadata: { name: string } }[] }>('get', 'deployments', '-A', '-o', 'json').items;
  assert.deepEqual(deployments.map((d) => d.metadata.name), ['cart']);
  const last = await until('cart ready after the restart', async () => (await pods(mesh)).find((p) => readyCount(p) === '1/1'));

  // SIGTERM (Ctrl-C in the foreground) stops every pod and removes the socket and the lock.
  const lastPid = Number(last.status.containerStatuses?.[0]?.containerID?.replace('weft://', ''));
  await mesh.stop();
  assert.equal(running(lastPid), false);
  assert.equal(existsSync(join(mesh.home, 'runtime.sock')), false);
  assert.equal(existsSync(join(mesh.home, 'runtime.pid')), false);
});
