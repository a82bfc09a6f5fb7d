/**
 * The seed's zero-downtime upgrade, end to end with real processes: install with the seed's
 * operator file, serve an injected app through the ingress gateway, then install revision
 * 1-20-1 beside the first (the gateways move to it in place), move the app's namespace to it
 * with a label and a rollout restart, and uninstall the old revision. Requests flow through the
 * ingress the whole time, and not one may fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath } from '../../lib/repo.js';
import { TestMesh, until, httpGet, readyCount, helloApp, type PodItem } from '../../runtime/testing.js';
import type { RuntimeStatus } from '../../runtime/status.js';

const seed = sharedPath('seed-configs', '01-istio-operator.yaml');

function app(dir: string): string {
  const file = join(dir, 'app.yaml');
  writeFileSync(file, helloApp(dir, 2));
  return file;
}

function proxyRevision(p: PodItem & { metadata: { annotations?: Record<string, string> } }): string | undefined {
  const status = p.metadata.annotations?.['sidecar.istio.io/status'];
  return status ? (JSON.parse(status) as { revision?: string }).revision : undefined;
}

test('revision upgrade with traffic flowing throughout and no failed request', { timeout: 240_000 }, async (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start();
  const ok = (r: { code: number | null; stdout: string; stderr: string }) => assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);

  ok(mesh.weft('install', '-f', seed, '-y', '--timeout', '120'));
  ok(mesh.weft('apply', '-f', app(mesh.home)));
  const url = (await mesh.api.request<RuntimeStatus>('GET', '/status')).ingress.http;
  assert.ok(url, 'the ingress gateway has a host address');
  await until('the app through the ingress', async () => ((await httpGet(url)).status === 200 ? true : undefined), 60_000);

  // Traffic for the whole upgrade: one request after another, every outcome kept.
  const failures: string[] = [];
  const served = new Set<string>();
  let requests = 0;
  let running = true;
  const traffic = (async () => {
    while (running) {
      requests++;
      try {
        const r = await httpGet(url, { timeoutMs: 10_000 });
        if (r.status === 200) served.add(r.body.replace(/^hello from (\S+).*$/s, '$1'));
        else failures.push(`HTTP ${r.status}: ${r.body}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  })();

  ok(mesh.weft('install', '--revision', '1-20-1', '-f', seed, '-y', '--timeout', '120'));
  ok(mesh.weft('label', 'namespace', 'shop', 'istio-injection-'));
  ok(mesh.weft('label', 'namespace', 'shop', 'istio.io/rev=1-20-1'));
  ok(mesh.weft('rollout', 'restart', 'deployment/hello', '-n', 'shop'));
  await until('the app on revision 1-20-1', async () => {
    const pods = (await mesh.pods('shop')) as (PodItem & { metadata: { annotations?: Record<string, string> } })[];
    return pods.length === 2 && pods.every((p) => proxyRevision(p) === '1-20-1' && readyCount(p) === '2/2') ? pods : undefined;
  }, 90_000);
  const uninstall = mesh.weft('uninstall', '--revision', 'default', '-y');
  ok(uninstall);
  assert.doesNotMatch(uninstall.stdout, /proxies pointing/, 'nothing uses the old revision any more');
  await until('the old control plane gone', async () => ((await mesh.pods('istio-system')).some((p) => /^istiod-[a-z0-9]+-[a-z0-9]+$/.test(p.metadata.name) && !p.metadata.name.startsWith('istiod-1-20-1')) ? undefined : true), 30_000);
  const after = requests;
  await until('more requests after the uninstall', () => (requests > after + 20 ? true : undefined), 30_000);
  running = false;
  await traffic;

  assert.deepEqual(failures, []);
  const names = (await mesh.pods('shop')).map((p) => p.metadata.name);
  assert.ok(names.every((n) => served.has(n)), `the new pods served requests: ${[...served].join(', ')}`);
  assert.ok(requests > 50, `${requests} requests`);
});
