/**
 * The control plane end to end, with real processes: two `weft control-plane` replicas watching
 * one config directory, a `weft proxy` ingress gateway connected to them, and two HTTP servers as
 * the v1 and v2 workloads (WorkloadEntries on loopback ports behind a ServiceEntry).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Processes, get, getJson, upstream, waitFor, weft, type Ready, type WeftProcess } from './kit.js';

const NODE_ID = 'ingress.istio-system';

const mesh = (v1: number, v2: number) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: echo}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: echo-v1, namespace: default}
spec: {address: 127.0.0.1, ports: {http: ${v1}}, labels: {app: echo, version: v1}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: echo-v2, namespace: default}
spec: {address: 127.0.0.1, ports: {http: ${v2}}, labels: {app: echo, version: v2}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: echo, namespace: default}
spec:
  host: echo.example.internal
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`;

const routeTo = (subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: echo, namespace: default}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - route:
    - destination: {host: echo.example.internal, subset: ${subset}}
`;

// Line 9, column 15, field spec.http[0].route[0].weight: a negative weight.
const INVALID = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: default}
spec:
  hosts: [other.example.internal]
  http:
  - route:
    - destination: {host: echo.example.internal}
      weight: -5
`;

interface Discovery { replica?: string; server?: string; version?: string }
interface ConfigErrors { active: boolean; errors: { file?: string; line?: number; column?: number; path?: string; message: string }[] }
interface Syncz { replica: string; proxies: { nodeId: string; state: string; ackedVersion?: string }[] }

describe('weft control-plane with a connected weft proxy', { timeout: 60_000 }, () => {
  const procs = new Processes();
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-cp-'));
  const configDir = join(dir, 'config');
  const closers: (() => Promise<void>)[] = [];
  const replicas: { name: string; proc: WeftProcess; ready: Ready; monitoring: string }[] = [];
  let proxyReady: Ready;
  let gateway: string;
  let admin: string;

  /** Requests through the gateway in a loop until stopped; every non-200 or error is a failure. */
  const trafficLoop = () => {
    let running = true;
    const failures: string[] = [];
    const bodies: string[] = [];
    const done = (async () => {
      while (running) {
        try {
          const res = await get(gateway);
          if (res.status === 200) bodies.push(res.body.trim());
          else failures.push(`HTTP ${res.status} ${res.body}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    })();
    return { failures, bodies, stop: async () => { running = false; await done; } };
  };

  before(async () => {
    mkdirSync(configDir);
    const v1 = await upstream('v1');
    const v2 = await upstream('v2');
    closers.push(v1.close, v2.close);
    writeFileSync(join(configDir, 'mesh.yaml'), mesh(v1.port, v2.port));
    writeFileSync(join(configDir, 'virtual-service.yaml'), routeTo('v1'));
    const stateDir = join(dir, 'state');
    const token = weft('control-plane', 'token', NODE_ID, '--state-dir', stateDir);
    assert.equal(token.code, 0, token.stderr);
    writeFileSync(join(dir, 'token'), token.stdout);
    writeFileSync(join(dir, 'node.json'), JSON.stringify({ id: NODE_ID, role: 'ingress-gateway', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }));
    for (const name of ['istiod-a', 'istiod-b']) {
      const proc = procs.start(name, ['control-plane', '--config', configDir, '--state-dir', stateDir, '--port', '0', '--monitoring-port', '0', '--dashboard-port', 'none', '--replica-id', name]);
      replicas.push({ name, proc, ready: await proc.ready, monitoring: '' });
    }
    for (const r of replicas) r.monitoring = `http://127.0.0.1:${r.ready.ports.monitoring}`;
    const servers = replicas.map((r) => `127.0.0.1:${r.ready.ports.xds}`).join(',');
    const proxy = procs.start('proxy', ['proxy', '--control-plane', servers, '--prometheus-port', '0', '--status-port', '0', '--node', join(dir, 'node.json'), '--token-file', join(dir, 'token'),
      '--port-map', '80=0', '--admin-port', '0', '--health-port', '0', '--bind', '127.0.0.1']);
    proxyReady = await proxy.ready;
    assert.ok(proxyReady.ports['gateway:80'], `the first pushed config opens the gateway port: ${JSON.stringify(proxyReady)}`);
    gateway = `http://127.0.0.1:${proxyReady.ports['gateway:80']}/`;
    admin = `http://127.0.0.1:${proxyReady.ports.admin}`;
  });

  after(async () => {
    await procs.killAll();
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('(a) rewriting the VirtualService from v1 to v2 reaches the proxy and moves live traffic', async () => {
    assert.equal((await get(gateway)).body, 'v1');
    writeFileSync(join(configDir, 'virtual-service.yaml'), routeTo('v2'));
    await waitFor('traffic to reach v2', async () => ((await get(gateway)).body === 'v2' ? true : undefined), 5_000);
    for (let i = 0; i < 5; i++) assert.equal((await get(gateway)).body, 'v2');
  });

  it('(d) an invalid resource is rejected with file, line and field path, and nothing changes', async () => {
    const before = await getJson<Discovery>(`${admin}/discovery`);
    writeFileSync(join(configDir, 'broken.yaml'), INVALID);
    for (const r of replicas) {
      const errors = await waitFor(`${r.name} to reject the change`, async () => {
        const body = await getJson<ConfigErrors>(`${r.monitoring}/debug/config_errors`);
        return body.active ? body : undefined;
      });
      assert.equal(errors.errors.length, 1, JSON.stringify(errors));
      const [e] = errors.errors;
      assert.ok(e?.file?.endsWith('broken.yaml'), JSON.stringify(e));
      assert.deepEqual([e?.line, e?.column, e?.path], [9, 15, 'spec.http[0].route[0].weight']);
      assert.match(r.proc.output(), /broken\.yaml:9:15\) spec\.http\[0\]\.route\[0\]\.weight: Schema validation error/);
    }
    await new Promise((r) => setTimeout(r, 300)); // longer than the push debounce: a push would have happened
    assert.equal((await getJson<Discovery>(`${admin}/discovery`)).version, before.version);
    assert.equal((await get(gateway)).body, 'v2');
    const metrics = (await get(`${replicas[0]?.monitoring}/metrics`)).body;
    assert.match(metrics, /^weft_config_changes_rejected [1-9]/m);
    assert.match(metrics, /^weft_config_errors 1$/m);
    rmSync(join(configDir, 'broken.yaml'));
    for (const r of replicas) {
      await waitFor(`${r.name} to accept the fixed set`, async () => ((await getJson<ConfigErrors>(`${r.monitoring}/debug/config_errors`)).active ? undefined : true));
    }
  });

  it('(e) weft proxy-status shows the proxy SYNCED; weft proxy-config lists its clusters', () => {
    const cpFlags = replicas.flatMap((r) => ['--control-plane', r.monitoring]);
    const status = weft('proxy-status', ...cpFlags);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^NAME\s+ROLE\s+REVISION\s+REPLICA\s+AUTH\s+VERSION\s+STATUS$/m);
    assert.match(status.stdout, new RegExp(`^${NODE_ID.replace('.', '\\.')}\\s+ingress-gateway\\s+default\\s+istiod-[ab]\\s+token\\s+[0-9a-f]{16}\\s+SYNCED$`, 'm'));
    const clusters = weft('proxy-config', 'clusters', NODE_ID, ...cpFlags);
    assert.equal(clusters.code, 0, clusters.stderr);
    assert.match(clusters.stdout, /^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE$/m);
    assert.match(clusters.stdout, /^echo\.example\.internal\s+80\s+v2\s+outbound\s+EDS\s+echo\.default$/m);
    const json = weft('proxy-config', 'clusters', NODE_ID, '-o', 'json', ...cpFlags);
    assert.ok((JSON.parse(json.stdout) as { name: string }[]).some((c) => c.name === 'outbound|80|v1|echo.example.internal'));
    const missing = weft('proxy-config', 'routes', 'nobody.default', ...cpFlags);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no control plane replica has proxy nobody\.default/);
  });

  it('(b) killing the replica the proxy is connected to moves it to the other, with no failed request', async () => {
    const { replica: connected, version } = await getJson<Discovery>(`${admin}/discovery`);
    const victim = replicas.find((r) => r.name === connected);
    const survivor = replicas.find((r) => r.name !== connected);
    assert.ok(victim && survivor, `connected to ${connected}`);
    const loop = trafficLoop();
    await new Promise((r) => setTimeout(r, 200));
    await procs.kill(victim.proc);
    await waitFor('the proxy to fail over', async () => ((await getJson<Discovery>(`${admin}/discovery`)).replica === survivor.name ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 200));
    await loop.stop();
    assert.deepEqual(loop.failures, []);
    assert.ok(loop.bodies.length > 5 && loop.bodies.every((b) => b === 'v2'), `${loop.bodies.length} responses`);
    const syncz = await getJson<Syncz>(`${survivor.monitoring}/debug/syncz`);
    assert.deepEqual(syncz.proxies.map((p) => [p.nodeId, p.state, p.ackedVersion]), [[NODE_ID, 'SYNCED', version]]);
  });

  it('(c) with every replica gone, traffic keeps flowing on the last config', async () => {
    const { version } = await getJson<Discovery>(`${admin}/discovery`);
    const loop = trafficLoop();
    for (const r of replicas) await procs.kill(r.proc);
    await waitFor('the proxy to notice', async () => ((await getJson<Discovery>(`${admin}/discovery`)).server === undefined ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    await loop.stop();
    assert.deepEqual(loop.failures, []);
    assert.ok(loop.bodies.length > 5 && loop.bodies.every((b) => b === 'v2'));
    assert.equal((await getJson<Discovery>(`${admin}/discovery`)).version, version);
    assert.equal((await get(`${admin}/ready`)).status, 200);
  });
});
