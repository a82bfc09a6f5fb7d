/**
 * The push stream over TLS with real processes, as Istio runs it on 15012: two `weft control-plane`
 * replicas on one CA, a `weft proxy` that verifies them against the mesh root file, connects with
 * its token, gets its workload certificate, and after its replica dies reconnects to the other
 * with the certificate; `weft proxy-status` shows how it authenticated. A proxy given the wrong
 * root never connects and logs why.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSelfSignedCa } from '../ca/index.js';
import { Processes, getJson, waitFor, weft, type Ready, type WeftProcess } from './kit.js';

const NODE_ID = 'ingress.istio-system';
const SAN = 'istiod.istio-system.svc';

interface Syncz {
  replica: string;
  proxies: { nodeId: string; state: string; auth?: string }[];
}

describe('the push stream over TLS, proxies authenticated by token then by their workload certificate', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-xds-tls-'));
  const stateDir = join(dir, 'state');
  const procs = new Processes();
  const replicas: { name: string; proc: WeftProcess; ready: Ready; monitoring: string }[] = [];
  let proxy: WeftProcess;

  const proxyArgs = (rootCert: string, servers: string) => ['proxy', '--control-plane', servers, '--root-cert', rootCert, '--control-plane-san', SAN,
    '--node', join(dir, 'node.json'), '--token-file', join(dir, 'token'), '--prometheus-port', '0', '--status-port', '0',
    '--admin-port', '0', '--health-port', '0', '--port-map', '80=0', '--bind', '127.0.0.1', '--initial-fetch-timeout', '1s'];

  before(async () => {
    const configDir = join(dir, 'config');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'gateway.yaml'), 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n');
    const token = weft('control-plane', 'token', NODE_ID, '--state-dir', stateDir);
    assert.equal(token.code, 0, token.stderr);
    writeFileSync(join(dir, 'token'), token.stdout);
    writeFileSync(join(dir, 'node.json'), JSON.stringify({ id: NODE_ID, role: 'ingress-gateway', namespace: 'istio-system', labels: { istio: 'ingressgateway' } }));
    for (const name of ['istiod-a', 'istiod-b']) {
      const proc = procs.start(name, ['control-plane', '--config', configDir, '--state-dir', stateDir, '--port', '0', '--monitoring-port', '0', '--dashboard-port', 'none',
        '--zipkin-port', 'none', '--graph-scrape-interval', '0', '--replica-id', name]);
      const ready = await proc.ready;
      replicas.push({ name, proc, ready, monitoring: `http://127.0.0.1:${ready.ports.monitoring}` });
    }
  });

  after(async () => {
    await procs.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad flags are refused with what is wrong: --tls-port, an unreadable or empty --root-cert', () => {
    const cp = weft('control-plane', '--config', dir, '--state-dir', stateDir, '--tls-port', 'https');
    assert.equal(cp.code, 2);
    assert.match(cp.stderr, /--tls-port takes a port number \(0 picks one\) or none/);
    writeFileSync(join(dir, 'empty.pem'), '');
    for (const [file, why] of [[join(dir, 'missing.pem'), /cannot read .*missing\.pem: ENOENT/], [join(dir, 'empty.pem'), /.*empty\.pem holds no PEM certificate/]] as const) {
      const proxy = weft(...proxyArgs(file, '127.0.0.1:15012'));
      assert.equal(proxy.code, 1, 'the proxy exits rather than serving without a control plane it can trust');
      assert.match(proxy.stderr, new RegExp(`error: --root-cert: ${why.source}`));
    }
  });

  it('each replica serves TLS on its own port with its own certificate from the one root', () => {
    for (const r of replicas) assert.ok(r.ready.ports.xdsTls && r.ready.ports.xdsTls !== r.ready.ports.xds, JSON.stringify(r.ready.ports));
    const root = new X509Certificate(readFileSync(join(stateDir, 'root-cert.pem')));
    assert.ok(root.ca);
  });

  it('a proxy given another root does not connect, and its log says why', async () => {
    const other = loadSelfSignedCa(join(dir, 'other-ca'));
    writeFileSync(join(dir, 'wrong-root.pem'), other.trustBundle);
    const wary = procs.start('wary-proxy', proxyArgs(join(dir, 'wrong-root.pem'), `127.0.0.1:${replicas[0]?.ready.ports.xdsTls}`));
    await wary.ready;
    assert.match(wary.output(), /control plane connection lost; serving the last config reason="self-signed certificate in certificate chain"/);
    for (const r of replicas) assert.deepEqual((await getJson<Syncz>(`${r.monitoring}/debug/syncz`)).proxies, [], `${r.name} has no proxy`);
    await procs.kill(wary);
  });

  it('the first connection authenticates with the token; after a failover the proxy presents its certificate', async () => {
    const servers = replicas.map((r) => `127.0.0.1:${r.ready.ports.xdsTls}`).join(',');
    proxy = procs.start('proxy', proxyArgs(join(stateDir, 'root-cert.pem'), servers));
    await proxy.ready;
    const first = await waitFor('the proxy on a replica', async () => {
      for (const r of replicas) {
        const p = (await getJson<Syncz>(`${r.monitoring}/debug/syncz`)).proxies.find((x) => x.nodeId === NODE_ID && x.state === 'SYNCED');
        if (p) return { replica: r, auth: p.auth };
      }
      return undefined;
    });
    assert.equal(first.auth, 'token');
    await waitFor('the workload certificate', async () => (/workload certificate installed/.test(proxy.output()) ? true : undefined));
    const survivor = replicas.find((r) => r !== first.replica);
    assert.ok(survivor);
    await procs.kill(first.replica.proc);
    const moved = await waitFor('the failover', async () => (await getJson<Syncz>(`${survivor.monitoring}/debug/syncz`)).proxies.find((x) => x.nodeId === NODE_ID && x.state === 'SYNCED'), 10_000);
    assert.equal(moved.auth, 'certificate', procs.dump());
    assert.match(proxy.output(), /connected to the control plane replica=istiod-[ab] credential=certificate/);

    const status = weft('proxy-status', '--control-plane', survivor.monitoring);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^NAME\s+ROLE\s+REVISION\s+REPLICA\s+AUTH\s+VERSION\s+STATUS$/m);
    assert.match(status.stdout, new RegExp(`^ingress\\.istio-system\\s+ingress-gateway\\s+default\\s+${survivor.name}\\s+certificate\\s+[0-9a-f]{16}\\s+SYNCED$`, 'm'));
    process.stdout.write(`# weft proxy-status:\n${status.stdout.trimEnd().replace(/^/gm, '#   ')}\n`);
  });
});
