/**
 * A proxy survives losing its control plane: it fails over to another replica without a gap in
 * the config it serves, and when every replica is gone it keeps its config and retries with
 * growing, jittered delays until one returns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Harness, waitFor, World } from './testing.js';

test('when its replica dies the proxy fails over to the other one, with no gap and no re-send', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const a = await h.server(world);
  const b = await h.server(world);
  const { client, applied, events } = h.client([a.url, b.url], 'reviews-v1.default');
  await waitFor(() => a.server.proxies()[0]?.state === 'SYNCED', 'ACK on replica a');
  const served = client.current();
  assert.ok(served);

  // Sample current() on every client event: it must never be empty or move backwards.
  const seen: (string | undefined)[] = [];
  for (const event of ['connected', 'disconnected', 'applied'] as const) client.on(event, () => seen.push(client.current()?.version));

  await a.server.close();
  await waitFor(() => events.some((e) => e.startsWith('disconnected')), 'the disconnect');
  assert.equal(client.current(), served);
  assert.deepEqual(h.clientClock.pending(), [50], 'one retry scheduled at the jittered initial delay');

  h.clientClock.advance(50);
  await waitFor(() => b.server.proxies()[0]?.state === 'SYNCED', 'SYNCED on replica b');
  assert.equal(client.status().replica, 'istiod-1');
  assert.equal(b.server.proxies()[0]?.ackedVersion, served.version, 'b accepted the lastVersion the proxy reported');
  assert.equal(b.server.metrics.pushes.value, 0, 'the unchanged config was not sent again');
  assert.equal(applied.length, 1);
  assert.ok(seen.every((v) => v === served.version), `current() stayed ${served.version}: ${seen.join(', ')}`);

  // And replica b pushes the next change.
  world.bump('reviews-v1.default');
  b.server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => applied.length === 2, 'the change from b');
  assert.notEqual(client.current()?.version, served.version);
});

test('with every replica down the proxy keeps its config and retries with backoff until one returns', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const first = await h.server(world);
  const port = Number(new URL(first.url).port);
  const { client, events } = h.client([first.url], 'reviews-v1.default');
  await waitFor(() => first.server.proxies()[0]?.state === 'SYNCED', 'first ACK');
  const served = client.current();

  await first.server.close();
  // Each attempt is refused; the ceiling doubles from 100 to the 1600 cap (random() = 0 picks half of it).
  const refusals = (): number => events.filter((e) => /ECONNREFUSED/.test(e)).length;
  const delays: number[] = [];
  await waitFor(() => events.some((e) => e.startsWith('disconnected')), 'the disconnect');
  for (let attempt = 0; attempt < 6; attempt++) {
    await waitFor(() => refusals() === attempt, `refusal ${attempt}`);
    const pending = h.clientClock.pending();
    assert.equal(pending.length, 1, 'exactly one retry timer');
    delays.push(pending[0] ?? 0);
    h.clientClock.advance(pending[0] ?? 0);
  }
  await waitFor(() => refusals() === 6, 'the last refusal');
  assert.deepEqual(delays, [50, 100, 200, 400, 800, 800]);
  assert.equal(client.current(), served, 'the last good config is still served');

  // A replica comes back on the same address; the next retry connects and the proxy is in sync.
  world.bump('reviews-v1.default');
  const back = await h.server(world, {}, port);
  assert.deepEqual(h.clientClock.pending(), [800]);
  h.clientClock.advance(800);
  await waitFor(() => back.server.proxies()[0]?.state === 'SYNCED', 'SYNCED after the outage');
  assert.notEqual(client.current()?.version, served?.version, 'the change made during the outage arrived');

  // Backoff starts again from the initial delay after a successful connection.
  await back.server.close();
  await waitFor(() => h.clientClock.pending().join() === '50', 'a retry after the initial delay, not the last one');
});

test('jitter spreads retries over the upper half of the ceiling', async () => {
  const { Backoff } = await import('./backoff.js');
  const draws = [0, 0.5, 0.999, 0.25];
  const backoff = new Backoff({ initialMs: 200, maxMs: 1000 }, () => draws.shift() ?? 0);
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [100, 300, 800, 625]);
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), RangeError);
});

/** A TCP relay that can go silent: bytes stop flowing but nothing is closed, as when a machine dies. */
async function silenceableRelay(targetPort: number): Promise<{ url: string; silence: () => void; close: () => void }> {
  let silent = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    for (const [from, to] of [[down, up], [up, down]] as const) {
      sockets.add(from);
      from.on('data', (data) => silent || to.write(data));
      from.on('error', () => {});
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    silence: () => (silent = true),
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

test('a replica that goes silent without closing is detected by keepalive on both sides', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const a = await h.server(world, { keepaliveMs: 1000 });
  const b = await h.server(world);
  const relay = await silenceableRelay(Number(new URL(a.url).port));
  t.after(() => relay.close());
  const { client, events } = h.client([relay.url, b.url], 'reviews-v1.default', { keepaliveMs: 1000 });
  await waitFor(() => a.server.proxies()[0]?.state === 'SYNCED', 'SYNCED on a through the relay');

  // While bytes flow, pings are answered and nothing happens.
  for (let i = 0; i < 3; i++) {
    h.clientClock.advance(1000);
    h.serverClock.advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(a.server.proxies().length, 1);
  assert.ok(!events.some((e) => e.startsWith('disconnected')));

  relay.silence();
  h.clientClock.advance(1000);
  h.serverClock.advance(1000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  h.clientClock.advance(1000);
  h.serverClock.advance(1000);
  await waitFor(() => a.server.proxies().length === 0, 'the server to drop the ghost proxy');
  await waitFor(() => h.clientClock.pending().join() === '50', 'the client to give up on a');
  assert.ok(events.includes('disconnected no keepalive response within 1000 ms retry 50'), events.join('\n'));

  h.clientClock.advance(50);
  await waitFor(() => b.server.proxies()[0]?.state === 'SYNCED', 'SYNCED on b');
  // The server counts the ACK before the client's status settles on a loaded machine: wait for it.
  await waitFor(() => client.status().replica === 'istiod-1', `the client on istiod-1 (status ${JSON.stringify(client.status())}, events ${events.join(', ')})`);
});
