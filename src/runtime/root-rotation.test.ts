/**
 * Root rotation on the local runtime, with real processes: an istiod pod and an injected app
 * whose sidecar calls the app's own service (out through the sidecar and back in with mTLS) in a
 * loop while `weft control-plane ca rotate` replaces the runtime's self-signed root. The pod's
 * mounted root-cert.pem follows the bundle (both roots, then the new one after the grace period),
 * no request fails, and after a rollout of istiod (a serving certificate from the new root only)
 * the sidecar reconnects over TLS and authenticates with its new workload certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMeshWith, until, httpGet, readyCount, helloApp, istiodManifests } from './testing.js';

const CERT = /-----BEGIN CERTIFICATE-----/g;

function manifests(dir: string): string {
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, istiodManifests(['--port', '15010', '--monitoring-port', '15014', '--debounce', '20ms', '--ca-reload-interval', '250ms', '--zipkin-port', 'none', '--dashboard-port', 'none'], { revision: 'default' }) + helloApp(dir));
  return file;
}

test('the runtime\'s root rotates under traffic: pods\' root files follow, no request fails, the sidecar reconnects to a new istiod with its new certificate', async (t) => {
  const mesh = await startMeshWith(t, manifests);
  const app = await until('hello 2/2', async () => (await mesh.pods('shop')).find((p) => readyCount(p) === '2/2'), 30_000);
  const rootFile = join(mesh.home, 'pods', 'shop', app.metadata.name, 'root-cert.pem');
  const roots = () => (readFileSync(rootFile, 'utf8').match(CERT) ?? []).length;
  assert.equal(roots(), 1);
  const call = () => httpGet('http://hello.shop.svc.cluster.local:9080/', { proxy: `http://${app.status.podIP}:15001` });
  await until('outbound by service name', async () => ((await call()).status === 200 ? true : undefined));

  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loop = async () => {
    while (running) {
      const r = await call().catch((err: Error) => ({ status: 0, body: err.message }));
      if (r.status === 200) ok++;
      else failures.push(`${new Date().toISOString()} ${r.status} ${r.body}`);
    }
  };
  const loops = [loop(), loop()];
  try {
    const rotated = mesh.weft('control-plane', 'ca', 'rotate', '--state-dir', join(mesh.home, 'ca'), '--grace', '6s');
    assert.equal(rotated.code, 0, rotated.stderr);
    await until('both roots in the pod\'s root-cert.pem', () => (roots() === 2 ? true : undefined), 10_000);
    await until('the old root gone from it after the grace period', () => (roots() === 1 ? true : undefined), 20_000);
    assert.equal(readFileSync(rootFile, 'utf8'), readFileSync(join(mesh.home, 'ca', 'root-cert.pem'), 'utf8'));
    const [istiod] = (await mesh.pods('istio-system')).filter((p) => p.metadata.name.startsWith('istiod-'));
    assert.equal(mesh.weft('rollout', 'restart', 'deployment/istiod', '-n', 'istio-system').code, 0);
    const fresh = await until('a new istiod, the old one gone', async () => {
      const cps = (await mesh.pods('istio-system')).filter((p) => p.metadata.name.startsWith('istiod-'));
      const [only] = cps;
      return cps.length === 1 && only && only.metadata.name !== istiod?.metadata.name && readyCount(only) === '1/1' ? only : undefined;
    }, 20_000);
    const synced = await until('the sidecar SYNCED with the new istiod', async () => {
      const r = await httpGet(`http://${fresh.status.podIP}:15014/debug/syncz`);
      return (JSON.parse(r.body) as { proxies: { nodeId: string; state: string; auth?: string }[] }).proxies.find((p) => p.nodeId === `${app.metadata.name}.shop` && p.state === 'SYNCED');
    }, 20_000);
    assert.equal(synced.auth, 'certificate', 'its certificate chains to the new root, the only one the new istiod trusts');
  } finally {
    running = false;
    await Promise.all(loops);
  }
  assert.deepEqual(failures, []);
  assert.ok(ok > 20, `only ${ok} requests went through`);
});
