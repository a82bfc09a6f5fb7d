/**
 * The push server and client together over real HTTP/2 on loopback: ACK and NACK, debounce,
 * pushing only what changed, and authentication. Time is the harness's fake clock, so the
 * debounce window is crossed by advancing it, never by sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { encodeFrame, FrameDecoder, parseServerMessage, STREAM_PATH } from './protocol.js';
import { GOOD_TOKEN, Harness, node, waitFor, World } from './testing.js';

test('a proxy gets its config on connect, applies it, and the server records the ACK', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world);
  const { client, applied, events } = h.client([url], 'reviews-v1.default');

  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'the ACK');
  const [status] = server.proxies();
  assert.equal(applied.length, 1);
  assert.equal(client.current()?.version, applied[0]);
  assert.match(applied[0] ?? '', /^[0-9a-f]{16}$/, 'the version is a content hash, not what compile put there');
  assert.deepEqual(status, {
    nodeId: 'reviews-v1.default', role: 'sidecar', namespace: 'default', revision: '', replica: 'istiod-0',
    connectedAt: h.serverClock.now(), sentVersion: applied[0], ackedVersion: applied[0], state: 'SYNCED', auth: 'token',
  });
  assert.deepEqual(events, ['connected istiod-0', `applied ${applied[0]}`]);
  assert.equal(client.status().replica, 'istiod-0');
  assert.equal(server.metrics.connected.value, 1);
  assert.equal(server.metrics.pushes.value, 1);
  assert.equal(server.metrics.pushLatency.count, 0, 'the connect-time push is not a change');
});

test('a NACKed config is not applied, the last good one stays, and proxy-status shows the NACK', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world);
  const { client, events } = h.client([url], 'reviews-v1.default');
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'first ACK');
  const good = client.current();

  world.trustDomain = 'bad';
  server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => server.proxies()[0]?.nackedVersion !== undefined, 'the NACK');

  const status = server.proxies()[0];
  assert.equal(client.current(), good, 'still serving the last good config');
  assert.equal(status?.state, 'STALE');
  assert.equal(status?.ackedVersion, good?.version);
  assert.equal(status?.nackedVersion, status?.sentVersion);
  assert.equal(status?.nackError, 'mesh.trustDomain: "bad" is not a valid trust domain');
  assert.equal(server.metrics.nacks.value, 1);
  assert.equal(client.status().rejected?.version, status?.nackedVersion);
  assert.ok(events.includes(`rejected ${status?.nackedVersion} mesh.trustDomain: "bad" is not a valid trust domain`));

  // The fix is pushed and ACKed, and the NACK is history.
  world.trustDomain = 'cluster.local';
  world.bump('reviews-v1.default');
  server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'ACK of the fix');
  assert.equal(server.proxies()[0]?.nackedVersion, undefined);
  assert.notEqual(client.current()?.version, good?.version);
});

test('a config the compiler cannot build is never sent; the proxy keeps its config', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world);
  const errors: string[] = [];
  server.on('config-error', (id, error) => errors.push(`${id}: ${error}`));
  const { client } = h.client([url], 'reviews-v1.default');
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'first ACK');
  const before = client.current();

  world.failCompile = true;
  server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => errors.length === 1, 'the config error');
  assert.equal(server.metrics.configErrors.value, 1);
  assert.equal(server.metrics.pushes.value, 1);
  assert.equal(client.current(), before);
  assert.equal(server.proxies()[0]?.state, 'SYNCED');
  assert.match(server.registry.render(), /^pilot_total_xds_internal_errors 1$/m);
});

test('ten rapid changes become one push, after the quiet period', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world, { debounceMs: 100, debounceMaxMs: 10_000 });
  const { applied } = h.client([url], 'reviews-v1.default');
  await waitFor(() => applied.length === 1, 'initial config');
  world.compiled.length = 0;

  for (let i = 0; i < 10; i++) {
    world.bump('reviews-v1.default');
    server.notifyChange('all');
    h.serverClock.advance(50);
  }
  h.serverClock.advance(49);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(world.compiled, [], 'nothing compiled while changes keep coming');

  h.serverClock.advance(1);
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED' && applied.length === 2, 'the one push');
  assert.equal(world.compiled.length, 1);
  assert.equal(server.metrics.pushes.value, 2);
  assert.equal(server.metrics.pushLatency.count, 1);
  assert.ok(Math.abs(server.metrics.pushLatency.sum - 0.55) < 1e-9, 'latency runs from the first change of the burst (550 ms of fake time)');
});

test('a steady trickle of changes is pushed when the first one is debounceMaxMs old', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world, { debounceMs: 100, debounceMaxMs: 1000 });
  const { applied } = h.client([url], 'reviews-v1.default');
  await waitFor(() => applied.length === 1, 'initial config');

  for (let i = 0; i < 12; i++) {
    world.bump('reviews-v1.default');
    server.notifyChange('all');
    h.serverClock.advance(90);
  }
  await waitFor(() => applied.length === 2, 'the forced push at 1000 ms');
});

test('only affected proxies are recompiled, and an unchanged config is not sent again', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world);
  const a = h.client([url], 'productpage-v1.default');
  const b = h.client([url], 'ratings-v1.default');
  await waitFor(() => server.proxies().filter((p) => p.state === 'SYNCED').length === 2, 'both ACKs');
  world.compiled.length = 0;
  const pushed: string[] = [];
  server.on('pushed', (id) => pushed.push(id));

  world.bump('productpage-v1.default');
  server.notifyChange((n) => n.workload === 'productpage-v1');
  h.serverClock.advance(100);
  await waitFor(() => a.applied.length === 2, 'productpage push');
  assert.deepEqual(world.compiled, ['productpage-v1.default']);
  assert.deepEqual(pushed, ['productpage-v1.default']);
  assert.equal(b.applied.length, 1);

  // A mesh-wide change that alters nothing: everyone is recompiled, nobody is sent anything.
  world.compiled.length = 0;
  server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => world.compiled.length === 2, 'recompilation');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(pushed, ['productpage-v1.default']);
  assert.equal(a.applied.length, 2);
  assert.equal(b.applied.length, 1);
  assert.equal(server.metrics.pushes.value, 3);
});

test('a proxy with a bad token is refused and never appears in proxy-status', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world);
  const rejected: string[] = [];
  server.on('auth-rejected', (id) => rejected.push(id));
  const { client, events } = h.client([url], 'intruder.default', { token: 'stolen-token-123' });

  await waitFor(() => events.length > 0, 'the refusal');
  assert.deepEqual(events, ['disconnected UNAUTHENTICATED: proxy intruder.default is not authenticated retry 50']);
  assert.ok(!events.join().includes('stolen-token-123'), 'credentials never reach logs');
  assert.deepEqual(rejected, ['intruder.default']);
  assert.deepEqual(server.proxies(), []);
  assert.equal(client.current(), undefined);
  assert.deepEqual(world.compiled, [], 'nothing is compiled for an unauthenticated proxy');
});

test('the raw protocol: a bad token gets 401 and an error message; a second hello is a protocol error', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const { url } = await h.server(new World());
  const session = http2.connect(url);
  t.after(() => session.destroy());

  async function exchange(frames: Buffer[]): Promise<{ status: unknown; messages: unknown[] }> {
    const stream = session.request({ ':method': 'POST', ':path': STREAM_PATH });
    for (const f of frames) stream.write(f);
    const decoder = new FrameDecoder();
    const messages: unknown[] = [];
    let status: unknown;
    stream.on('response', (headers) => (status = headers[':status']));
    stream.on('data', (chunk: Buffer) => messages.push(...decoder.push(chunk).map(parseServerMessage)));
    await new Promise((resolve) => stream.on('end', resolve));
    stream.close();
    return { status, messages };
  }

  const bad = await exchange([encodeFrame({ type: 'hello', node: node('x.default'), token: 'nope' })]);
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.messages, [{ type: 'error', code: 'UNAUTHENTICATED', message: 'proxy x.default is not authenticated' }]);

  const hello = encodeFrame({ type: 'hello', node: node('y.default'), token: GOOD_TOKEN });
  const twice = await exchange([hello, hello]);
  assert.equal(twice.status, 200);
  assert.equal((twice.messages[0] as { type: string }).type, 'config');
  assert.deepEqual(twice.messages[1], { type: 'error', code: 'PROTOCOL', message: 'hello sent twice' });

  const notJson = await exchange([Buffer.from([0, 0, 0, 3, 0x7b, 0x7b, 0x7b])]);
  assert.deepEqual(notJson.messages, [{ type: 'error', code: 'PROTOCOL', message: 'frame of 3 bytes is not JSON' }]);
});

test('the raw protocol: an ACK for an older push does not mark a newer one ACKed; a silent stream times out', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world, { helloTimeoutMs: 10_000 });
  const session = http2.connect(url);
  t.after(() => session.destroy());

  const stream = session.request({ ':method': 'POST', ':path': STREAM_PATH });
  const decoder = new FrameDecoder();
  const configs: { version: string; nonce: string }[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const m of decoder.push(chunk).map(parseServerMessage)) {
      if (m.type === 'config' || m.type === 'delta') configs.push({ version: m.version, nonce: m.nonce });
      // After the whole config, a change is sent as what changed: here the one load assignment.
      if (m.type === 'delta') {
        assert.equal(m.baseVersion, configs[0]?.version);
        assert.deepEqual(Object.keys(m.upserts), ['endpoints']);
        assert.deepEqual(m.removes, {});
      }
    }
  });
  stream.write(encodeFrame({ type: 'hello', node: node('raw.default'), token: GOOD_TOKEN }));
  await waitFor(() => configs.length === 1, 'first config');
  world.bump('raw.default');
  server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => configs.length === 2, 'second config');
  const [first, second] = configs as [{ version: string; nonce: string }, { version: string; nonce: string }];

  stream.write(encodeFrame({ type: 'ack', ...first }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(server.proxies()[0]?.state, 'STALE', 'the late ACK of the first push changes nothing');
  assert.equal(server.proxies()[0]?.ackedVersion, undefined);
  stream.write(encodeFrame({ type: 'ack', ...second }));
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'ACK of the second push');
  assert.equal(server.proxies()[0]?.ackedVersion, second.version);
  stream.close();

  // A stream that never says hello is closed with an error after helloTimeoutMs.
  const silent = session.request({ ':method': 'POST', ':path': STREAM_PATH });
  const silentDecoder = new FrameDecoder();
  const messages: unknown[] = [];
  silent.on('data', (chunk: Buffer) => messages.push(...silentDecoder.push(chunk)));
  const ended = new Promise((resolve) => silent.on('end', resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  h.serverClock.advance(10_000);
  await ended;
  assert.deepEqual(messages, [{ type: 'error', code: 'TIMEOUT', message: 'no hello received' }]);
  silent.close();
});
