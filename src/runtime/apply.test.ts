import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../lib/log.js';
import { Store } from './store.js';
import { applySources, deleteSources } from './apply.js';

function tempStore(t: { after(fn: () => void): void }): { dir: string; store: Store } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, store: new Store(dir, silentLogger) };
}

const APP = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: Service
metadata:
  name: cart
  namespace: shop
spec:
  selector: {app: cart}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cart
  namespace: shop
spec:
  hosts: [cart]
  http:
  - route:
    - destination: {host: cart}
`;

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(join(d, e.name).slice(dir.length + 1));
    }
  };
  walk(dir);
  return out.sort();
}

test('apply creates, re-apply is unchanged, a change is configured, and delete removes', (t) => {
  const { dir, store } = tempStore(t);
  const first = applySources(store, [{ file: 'app.yaml', text: APP }]);
  assert.ok(first.ok);
  assert.deepEqual(first.results.map((r) => `${r.ref} ${r.action}`), [
    'namespace/shop created', 'service/cart created', 'virtualservice.networking.istio.io/cart created',
  ]);
  assert.deepEqual(files(dir), ['namespace/_cluster/shop.yaml', 'service/shop/cart.yaml', 'virtualservice.networking.istio.io/shop/cart.yaml']);

  const again = applySources(store, [{ file: 'app.yaml', text: APP }]);
  assert.ok(again.ok);
  assert.deepEqual(again.results.map((r) => r.action), ['unchanged', 'unchanged', 'unchanged']);

  const changed = applySources(store, [{ file: 'app.yaml', text: APP.replace('port: 9080', 'port: 9081') }]);
  assert.ok(changed.ok);
  assert.deepEqual(changed.results.map((r) => r.action), ['unchanged', 'configured', 'unchanged']);
  assert.match(readFileSync(join(dir, 'service/shop/cart.yaml'), 'utf8'), /port: 9081/);
  assert.match(readFileSync(join(dir, 'service/shop/cart.yaml'), 'utf8'), /generation: 2/);

  // A new Store on the same folder (a daemon restart) sees the same resources.
  const reloaded = new Store(dir, silentLogger);
  reloaded.load();
  assert.deepEqual(reloaded.all().map((r) => `${r.kind}/${r.metadata.name}`).sort(), ['Namespace/shop', 'Service/cart', 'VirtualService/cart']);

  const deleted = deleteSources(store, [{ file: 'app.yaml', text: APP }]);
  assert.ok(deleted.ok);
  assert.deepEqual(deleted.results.map((r) => r.action), ['deleted', 'deleted', 'deleted']);
  assert.deepEqual(files(dir), []);
});

test('an apply with one invalid document changes nothing and names file, line and field', (t) => {
  const { dir, store } = tempStore(t);
  const bad = `${APP}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: cart
  namespace: shop
spec:
  host: cart
  trafficPolicy:
    loadBalancer:
      simple: SOMETIMES
`;
  const outcome = applySources(store, [{ file: 'bad.yaml', text: bad }]);
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok);
  const d = outcome.diagnostics[0];
  assert.equal(d?.location?.file, 'bad.yaml');
  assert.equal(d?.location?.line, 35);
  assert.equal(d?.location?.path, 'spec.trafficPolicy.loadBalancer.simple');
  assert.deepEqual(files(dir), [], 'nothing written');
});

test('a resource in a namespace that does not exist is refused; pods cannot be applied', (t) => {
  const { store } = tempStore(t);
  const outcome = applySources(store, [{ file: 'svc.yaml', text: APP.split('---\n')[1] ?? '' }]);
  assert.ok(!outcome.ok);
  assert.match(outcome.diagnostics[0]?.message ?? '', /namespaces "shop" not found/);
  assert.equal(outcome.diagnostics[0]?.location?.path, 'metadata.namespace');

  const pod = applySources(store, [{ file: 'pod.yaml', text: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: b}]\n' }]);
  assert.ok(!pod.ok);
  assert.match(pod.diagnostics[0]?.message ?? '', /creates pods from Deployments/);
});

test('deleting what is not there reports it and deletes the rest', (t) => {
  const { store } = tempStore(t);
  assert.ok(applySources(store, [{ file: 'app.yaml', text: APP.split('---\n')[0] ?? '' }]).ok);
  const outcome = deleteSources(store, [{ file: 'app.yaml', text: APP }]);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.results.map((r) => `${r.ref} ${r.action}`), ['service/cart not found', 'virtualservice.networking.istio.io/cart not found', 'namespace/shop deleted']);
});
