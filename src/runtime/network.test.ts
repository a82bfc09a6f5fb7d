import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlainNetwork } from './network.js';

test('plain network: each pod its own loopback address, injected pods a second one for the app', async (t) => {
  const net = new PlainNetwork('a1b2c3', '/tmp/weft-home-a');
  await net.setup();
  t.after(() => net.teardown());
  const plain = await net.createPod({ name: 'p1', namespace: 'default', injected: false });
  const injected = await net.createPod({ name: 'p2', namespace: 'default', injected: true });
  assert.equal(plain.appAddress, plain.ip);
  assert.notEqual(injected.appAddress, injected.ip);
  const all = [plain.ip, injected.ip, injected.appAddress];
  assert.equal(new Set(all).size, 3);
  for (const ip of all) assert.ok(ip.startsWith(net.range.replace('0.0/16', '')), `${ip} in ${net.range}`);
  assert.deepEqual(plain.wrap('node', ['a']), ['node', ['a']]);
});

test('two meshes side by side never share a range, even when their homes hash alike', async (t) => {
  const a = new PlainNetwork('a1b2c3', '/tmp/weft-home-a');
  const b = new PlainNetwork('a1b2c3', '/tmp/weft-home-b');
  await a.setup();
  t.after(() => a.teardown());
  await b.setup();
  t.after(() => b.teardown());
  assert.notEqual(a.range, b.range);
  // A released range can be taken again.
  await a.teardown();
  const c = new PlainNetwork('a1b2c3', '/tmp/weft-home-c');
  await c.setup();
  t.after(() => c.teardown());
  assert.notEqual(c.range, b.range);
});
