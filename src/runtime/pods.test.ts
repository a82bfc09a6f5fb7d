/**
 * Pods as supervised processes: a crashing container is restarted with backoff and counted, its
 * output kept for `weft logs`; `weft rollout restart` replaces pods one at a time (a new one
 * ready before an old one goes); scaling adds and removes pods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestMesh, until, readyCount, httpGet } from './testing.js';

function deployment(name: string, replicas: number, script: string, probe: boolean): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: node
        command: [node, ${JSON.stringify(script)}]
        ports: [{containerPort: 9080}]
${probe ? '        readinessProbe: {tcpSocket: {port: 9080}}\n' : ''}`;
}

test('a crashed container is restarted with backoff, counted, and its output kept', async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const script = join(mesh.home, 'crash.js');
  writeFileSync(script, `console.log('started as ' + process.env.WEFT_POD); setTimeout(() => { console.error('giving up'); process.exit(3); }, 100);`);
  writeFileSync(join(mesh.home, 'crash.yaml'), deployment('crasher', 1, script, false));
  assert.equal(mesh.weft('apply', '-f', join(mesh.home, 'crash.yaml')).code, 0);
  const pod = await until('a restart', async () => (await mesh.pods('default')).find((p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1));
  const logs = await until('the second run in the log', () => {
    const r = mesh.weft('logs', pod.metadata.name);
    return (r.stdout.match(/started as/g) ?? []).length >= 2 ? r.stdout : undefined;
  });
  assert.match(logs, new RegExp(`started as default/${pod.metadata.name}\\ngiving up\\nweft runtime: container main exited \\(code 3\\); restarting in 1000 ms\\nstarted as`));
  const table = mesh.weft('get', 'pods').stdout;
  assert.match(table, new RegExp(`${pod.metadata.name}\\s+0/1\\s+(CrashLoopBackOff|Running)\\s+[1-9]`));
  assert.match(mesh.weft('logs', pod.metadata.name, '-c', 'nope').stderr, /container "nope" is not valid for pod .*: choose one of main/);
});

test('rollout restart replaces pods one by one; scaling adds and removes pods', async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const script = join(mesh.home, 'web.js');
  writeFileSync(script, `require('net').createServer((s) => s.end('ok')).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  const file = join(mesh.home, 'web.yaml');
  writeFileSync(file, deployment('web', 2, script, true));
  assert.equal(mesh.weft('apply', '-f', file).code, 0);
  const ready = async () => (await mesh.pods('default')).filter((p) => readyCount(p) === '1/1' && !('deletionTimestamp' in p.metadata));
  const before = await until('two ready pods', async () => ((await ready()).length === 2 ? (await ready()).map((p) => p.metadata.name) : undefined));

  assert.equal(mesh.weft('rollout', 'restart', 'deployment/web').stdout, 'deployment.apps/web restarted\n');
  let fewestReady = Infinity;
  let mostPods = 0;
  const after = await until('two new ready pods', async () => {
    const all = (await mesh.pods('default')).filter((p) => !('deletionTimestamp' in p.metadata));
    const live = all.filter((p) => readyCount(p) === '1/1');
    fewestReady = Math.min(fewestReady, live.length);
    mostPods = Math.max(mostPods, all.length);
    const names = live.map((p) => p.metadata.name);
    return all.length === 2 && names.length === 2 && names.every((n) => !before.includes(n)) ? names : undefined;
  }, 20_000);
  assert.equal(fewestReady, 2, 'never fewer ready pods than replicas during the rollout');
  assert.ok(mostPods <= 3, `one extra pod at a time, saw ${mostPods}`);
  assert.equal(new Set(after.map((n) => n.split('-')[1])).size, 1, 'both from the new template');

  writeFileSync(file, deployment('web', 3, script, true));
  assert.equal(mesh.weft('apply', '-f', file).stdout, 'deployment.apps/web configured\n');
  await until('three pods', async () => ((await ready()).length === 3 ? true : undefined));
  writeFileSync(file, deployment('web', 1, script, true));
  mesh.weft('apply', '-f', file);
  await until('one pod', async () => ((await mesh.pods('default')).length === 1 ? true : undefined));
  const deploy = mesh.weft('get', 'deployments').stdout;
  assert.match(deploy, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+1\/1\s+1\s+1\s+\d+s\n$/);
});

test('liveness waits for the startup probe; a container failing its liveness probe is restarted and counted', async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const sick = join(mesh.home, 'sick');
  const script = join(mesh.home, 'live.js');
  writeFileSync(script, `const fs = require('fs');
require('http').createServer((q, s) => { s.statusCode = fs.existsSync(${JSON.stringify(sick)}) ? 500 : 200; s.end(); }).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  writeFileSync(join(mesh.home, 'live.yaml'), `${deployment('live', 1, script, false)}        startupProbe: {tcpSocket: {port: 9080}, periodSeconds: 1, failureThreshold: 30}
        livenessProbe: {httpGet: {path: /healthz, port: 9080}, periodSeconds: 1, failureThreshold: 1}
`);
  assert.equal(mesh.weft('apply', '-f', join(mesh.home, 'live.yaml')).code, 0, 'applied');
  const pod = await until('running', async () => (await mesh.pods('default')).find((p) => readyCount(p) === '1/1'));
  assert.equal(pod.status.containerStatuses?.[0]?.restartCount, 0);
  writeFileSync(sick, '');
  await until('restarted by the liveness probe', async () => ((await mesh.pods('default'))[0]?.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? true : undefined);
  rmSync(sick);
  assert.match(mesh.weft('logs', pod.metadata.name).stdout, /weft runtime: container main: liveness probe failed; it will be restarted\n/);
});

test('init containers run to completion, retried on failure, before the app starts', async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const marker = join(mesh.home, 'init-ran');
  const init = join(mesh.home, 'init.js');
  // Fails the first time (as a migration waiting for a database might), succeeds the second.
  writeFileSync(init, `const fs = require('fs'); const seen = fs.existsSync(${JSON.stringify(marker)}); fs.writeFileSync(${JSON.stringify(marker)}, 'prepared'); process.exit(seen ? 0 : 1);`);
  const app = join(mesh.home, 'app.js');
  writeFileSync(app, `const fs = require('fs'); require('http').createServer((q, s) => s.end(fs.readFileSync(${JSON.stringify(marker)}))).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  writeFileSync(join(mesh.home, 'init.yaml'), deployment('prepared', 1, app, true).replace('      containers:\n', `      initContainers:\n      - {name: prepare, image: node, command: [node, ${JSON.stringify(init)}]}\n      containers:\n`));
  assert.equal(mesh.weft('apply', '-f', join(mesh.home, 'init.yaml')).code, 0);
  const pod = await until('ready after init', async () => (await mesh.pods('default')).find((p) => readyCount(p) === '1/1'));
  const status = pod.status as { initContainerStatuses?: { name: string; restartCount: number; state: { terminated?: { reason?: string } } }[] };
  assert.deepEqual(status.initContainerStatuses?.map((c) => [c.name, c.restartCount, c.state.terminated?.reason]), [['prepare', 1, 'Completed']]);
  assert.equal((await httpGet(`http://${pod.status.podIP}:9080/`)).body, 'prepared');
});

test('stopping the runtime during a rollout stops the terminating pods too: no process outlives it', async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const script = join(mesh.home, 'web.js');
  writeFileSync(script, `require('net').createServer((s) => s.end('ok')).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  const file = join(mesh.home, 'web.yaml');
  writeFileSync(file, deployment('web', 2, script, true));
  assert.equal(mesh.weft('apply', '-f', file).code, 0);
  await until('two ready pods', async () => ((await mesh.pods('default')).filter((p) => readyCount(p) === '1/1').length === 2 ? true : undefined));
  assert.equal(mesh.weft('rollout', 'restart', 'deployment/web').code, 0);
  // An old pod in its grace period (out of the endpoints, its processes still serving).
  await until('a terminating pod', async () => ((await mesh.pods('default')).some((p) => 'deletionTimestamp' in p.metadata) ? true : undefined), 20_000);
  const pids = readFileSync(join(mesh.home, 'runtime.pids'), 'utf8').split('\n').map(Number).filter((p) => Number.isInteger(p) && p > 0);
  await mesh.stop();
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, [], 'every container the runtime started has ended');
});
