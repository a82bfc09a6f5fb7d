/**
 * `weft control-plane --kubernetes` end to end: a real control plane process reading a (fake, the
 * only stand-in) Kubernetes API server over HTTPS through a kubeconfig, a real `weft proxy`
 * ingress gateway connected to it, and two real HTTP servers as the pods behind a Service. The
 * VirtualService lives in the API server; a watch MODIFIED event moves live traffic.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { FakeApiServer } from '../sources/kubernetes/fake-api-server.js';
import { Processes, get, getJson, upstream, waitFor, weft } from './kit.js';

const NODE_ID = 'ingress.istio-system';
const TOKEN = 'e2e-kube-token';

const pod = (name: string, version: string, port: number) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'echo', version }, ownerReferences: [{ kind: 'ReplicaSet', name: `echo-${version}-7c9d`, controller: true }] },
  spec: { serviceAccountName: 'echo', containers: [{ name: 'echo', image: 'echo:1', ports: [{ name: 'http', containerPort: port }] }] },
  status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }], conditions: [{ type: 'Ready', status: 'True' }] },
});

const virtualService = (subset: string) => ({
  apiVersion: 'networking.istio.io/v1', kind: 'VirtualService',
  metadata: { name: 'echo', namespace: 'default' },
  spec: { hosts: ['*'], gateways: ['istio-system/gw'], http: [{ route: [{ destination: { host: 'echo.default.svc.cluster.local', subset } }] }] },
});

describe('weft control-plane --kubernetes with a connected weft proxy', { timeout: 60_000 }, () => {
  const procs = new Processes();
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-kube-'));
  const api = new FakeApiServer(dir, { token: TOKEN });
  const closers: (() => Promise<void>)[] = [];
  let gateway: string;
  let monitoring: string;
  let v2Port = 0;

  before(async () => {
    const v1 = await upstream('v1');
    const v2 = await upstream('v2');
    closers.push(v1.close, v2.close);
    v2Port = v2.port;
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    api.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'default' }, spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], clusterIP: '10.96.0.20' } });
    api.put(pod('echo-v1-7c9d-a', 'v1', v1.port));
    api.put(pod('echo-v2-7c9d-b', 'v2', v2.port));
    api.put({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'istio-system' }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] } });
    api.put({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'echo', namespace: 'default' }, spec: { host: 'echo.default.svc.cluster.local', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } });
    api.put(virtualService('v1'));
    const server = await api.listen();
    writeFileSync(join(dir, 'ca.pem'), api.ca);
    writeFileSync(join(dir, 'kubeconfig'), stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
      clusters: [{ name: 'fake', cluster: { server, 'certificate-authority': 'ca.pem' } }],
      users: [{ name: 'mesh', user: { token: TOKEN } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'mesh' } }],
    }));
    const stateDir = join(dir, 'state');
    const token = weft('control-plane', 'token', NODE_ID, '--state-dir', stateDir);
    assert.equal(token.code, 0, token.stderr);
    writeFileSync(join(dir, 'token'), token.stdout);
    writeFileSync(join(dir, 'node.json'), JSON.stringify({ id: NODE_ID, role: 'ingress-gateway', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }));
    const cp = procs.start('istiod', ['control-plane', '--kubernetes', '--kubeconfig', join(dir, 'kubeconfig'), '--state-dir', stateDir, '--port', '0', '--monitoring-port', '0',
      '--dashboard-port', 'none', '--zipkin-port', 'none', '--replica-id', 'istiod-kube']);
    const cpReady = await cp.ready;
    monitoring = `http://127.0.0.1:${cpReady.ports.monitoring}`;
    const proxy = procs.start('proxy', ['proxy', '--control-plane', `127.0.0.1:${cpReady.ports.xds}`, '--prometheus-port', '0', '--status-port', '0', '--node', join(dir, 'node.json'),
      '--token-file', join(dir, 'token'), '--port-map', '80=0', '--admin-port', '0', '--health-port', '0', '--bind', '127.0.0.1']);
    const proxyReady = await proxy.ready;
    assert.ok(proxyReady.ports['gateway:80'], `the first pushed config opens the gateway port: ${JSON.stringify(proxyReady)}\n${procs.dump()}`);
    gateway = `http://127.0.0.1:${proxyReady.ports['gateway:80']}/`;
  });

  after(async () => {
    await procs.killAll();
    await api.close();
    for (const close of closers) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes real traffic to the Service\'s ready pods per the VirtualService read from the API server', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(gateway)).body, 'v1', procs.dump());
    const syncz = await getJson<{ sources: string[] }>(`${monitoring}/debug/syncz`);
    assert.equal(syncz.sources.length, 1);
    assert.match(syncz.sources[0] ?? '', /^kubernetes:https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('a watch MODIFIED event on the VirtualService moves live traffic to v2', async () => {
    api.put(virtualService('v2'));
    await waitFor('traffic to reach v2', async () => ((await get(gateway)).body === 'v2' ? true : undefined), 10_000);
    for (let i = 0; i < 3; i++) assert.equal((await get(gateway)).body, 'v2');
  });

  it('a pod whose Ready condition turns False leaves the endpoints: the subset has no healthy upstream', async () => {
    const v2 = pod('echo-v2-7c9d-b', 'v2', v2Port);
    api.put({ ...v2, status: { ...v2.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    await waitFor('v2 to have no endpoint', async () => ((await get(gateway)).status === 503 ? true : undefined), 10_000);
    assert.match(procs.dump(), /configuration loaded source=kubernetes:https:\/\/127\.0\.0\.1:\d+/);
  });
});
