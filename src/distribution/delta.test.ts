/**
 * Delta pushes: after the first whole config a proxy is sent only the resources that changed, and
 * rebuilds the whole config from them. The spec is equivalence: whatever sequence of changes, the
 * rebuilt config deep-equals a whole compile. Also: a delta whose base the proxy does not hold is
 * answered with a resync and the whole config follows; a NACKed delta leaves the last good config;
 * a proxy that stops reading does not make the server buffer every push it misses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ProxyConfig, ProxyNode } from '../proxy-config/index.js';
import { loadResources, type AnyResource } from '../resources/index.js';
import { buildRegistry, instancesFromPods, meshOptionsFrom } from '../registry/index.js';
import { buildSnapshot, compileProxyConfig, type Snapshot } from '../compiler/index.js';
import { DiscoveryClient } from './client.js';
import { applyDelta } from './delta.js';
import { CONTENT_TYPE, encodeFrame, FrameDecoder, parseClientMessage, parseServerMessage, STREAM_PATH, type ServerMessage } from './protocol.js';
import { deltaFrame, fullFrame, indexConfig } from './resources.js';
import { GOOD_TOKEN, Harness, node, waitFor, World } from './testing.js';
import { versionConfig } from './version.js';

/** A small deterministic generator, so a failing sequence can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Mesh { services: Set<number>; unready: Set<string>; subsets: Set<number>; vs: Set<number> }

function meshYaml(m: Mesh): string {
  const docs: string[] = [];
  for (const s of [...m.services].sort((a, b) => a - b)) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${s}, namespace: default}\nspec:\n  selector: {app: svc-${s}}\n  ports:\n  - {name: http, port: 8000, targetPort: 8080}\n`);
    for (const p of [0, 1]) {
      const ready = !m.unready.has(`${s}-${p}`);
      docs.push(`apiVersion: v1\nkind: Pod\nmetadata: {name: svc-${s}-${p}, namespace: default, labels: {app: svc-${s}, version: v${p}}}\nspec:\n  serviceAccountName: svc-${s}\n  containers:\n  - {name: app, image: app, ports: [{containerPort: 8080}]}\n  - {name: istio-proxy, image: auto}\nstatus:\n  phase: Running\n  podIP: 10.0.${s}.${p + 1}\n  conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]\n`);
    }
    if (m.subsets.has(s)) docs.push(`apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: svc-${s}, namespace: default}\nspec:\n  host: svc-${s}\n  subsets:\n  - {name: v0, labels: {version: v0}}\n  - {name: v1, labels: {version: v1}}\n`);
    if (m.vs.has(s)) docs.push(`apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: svc-${s}, namespace: default}\nspec:\n  hosts: [svc-${s}]\n  http:\n  - route: [{destination: {host: svc-${s}}}]\n    timeout: ${s + 1}s\n`);
  }
  return docs.join('---\n');
}

function snapshotOf(m: Mesh): Snapshot {
  const loaded = loadResources([{ file: 'mesh.yaml', text: meshYaml(m) }]);
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('; '));
  const resources: AnyResource[] = loaded.resources;
  const mesh = meshOptionsFrom(resources);
  return buildSnapshot(resources, buildRegistry(resources, instancesFromPods(resources), mesh), mesh);
}

/** One random change: a pod's readiness, a service added or removed, subsets or a VirtualService toggled. */
function mutate(m: Mesh, next: () => number): void {
  const pick = (n: number) => Math.floor(next() * n);
  const service = pick(7);
  const toggle = <T>(set: Set<T>, value: T) => (set.has(value) ? set.delete(value) : set.add(value));
  switch (pick(4)) {
    case 0: toggle(m.unready, `${service}-${pick(2)}`); break;
    case 1: toggle(m.services, service + 1); break; // svc-0 stays: tests rely on one service every proxy sees
    case 2: toggle(m.subsets, service); break;
    default: toggle(m.vs, service);
  }
}

/** A whole compile as the server would send it, parsed back (what the client should hold). */
function sentForm(config: ProxyConfig): ProxyConfig {
  return JSON.parse(versionConfig(config).json) as ProxyConfig;
}

function decode(frame: Buffer): ServerMessage {
  const [message] = new FrameDecoder().push(frame).map(parseServerMessage);
  return message as ServerMessage;
}

test('a delta rebuilt on its base deep-equals the whole config, over random changes (the wire format)', () => {
  const next = random(7);
  const m: Mesh = { services: new Set([0, 1, 2, 3]), unready: new Set(), subsets: new Set(), vs: new Set() };
  const proxy: ProxyNode = { ...node('client.clients'), ip: '10.9.9.9' };
  let base = indexConfig(compileProxyConfig(snapshotOf(m), proxy, { version: false }));
  let held = (decode(fullFrame(base, '1', 1 << 24)) as { config: ProxyConfig }).config;
  let smaller = 0;
  for (let step = 0; step < 40; step++) {
    mutate(m, next);
    const config = compileProxyConfig(snapshotOf(m), proxy, { version: false });
    const index = indexConfig(config);
    assert.ok(index.deltaSafe);
    const frame = deltaFrame(base, index, String(step), 1 << 24);
    const message = decode(frame);
    assert.equal(message.type, 'delta');
    if (message.type !== 'delta') return;
    assert.equal(message.baseVersion, base.version);
    held = applyDelta(held, message.version, message.upserts, message.removes);
    assert.deepEqual(held, sentForm(config), `step ${step}`);
    if (frame.length < fullFrame(index, 'x', 1 << 24).length) smaller++;
    base = index;
  }
  assert.ok(smaller >= 32, `deltas were smaller than the whole config in ${smaller} of 40 steps`);
});

test('a list out of name order is never sent as a delta (the proxy could not rebuild its order)', () => {
  const world = new World();
  const config = world.compile(node('a.default'));
  const unsorted = { ...config, clusters: [{ ...clusterNamed('b') }, { ...clusterNamed('a') }] };
  assert.equal(indexConfig(config).deltaSafe, true);
  assert.equal(indexConfig(unsorted).deltaSafe, false);
  assert.notEqual(indexConfig(unsorted).version, indexConfig({ ...config, clusters: [clusterNamed('a'), clusterNamed('b')] }).version);
});

function clusterNamed(name: string): ProxyConfig['clusters'][number] {
  return {
    name, discovery: 'eds', protocol: 'http1', service: { host: `${name}.default.svc.cluster.local`, name, namespace: 'default', port: 80 },
    loadBalancer: { policy: 'ROUND_ROBIN' }, connectTimeoutMs: 1000, idleTimeoutMs: 1000,
    circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 1, maxRetries: 1 },
  } as ProxyConfig['clusters'][number];
}

test('proxies on real streams hold exactly a whole compile after every change, NACKs included', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const next = random(11);
  const m: Mesh = { services: new Set([0, 1, 2, 3, 4]), unready: new Set(), subsets: new Set([1]), vs: new Set([2]) };
  let snapshot = snapshotOf(m);
  let reject = false;
  const compile = (proxy: ProxyNode): ProxyConfig => compileProxyConfig(snapshot, proxy, { version: false });
  const { server, url } = await h.server(new World(), { compile });
  const ids = ['a.default', 'b.default', 'c.other'];
  const clients = ids.map((id) => h.client([url], id, { apply: () => (reject ? { ok: false, error: 'rejected for the test' } : { ok: true }) }).client);
  const converged = () => server.idle() && server.proxies().length === ids.length && server.proxies().every((p) => p.state === 'SYNCED');
  await waitFor(converged, 'first configs');
  let deltas = 0;
  server.on('pushed', () => deltas++);

  for (let step = 0; step < 25; step++) {
    mutate(m, next);
    snapshot = snapshotOf(m);
    // Every fifth change is NACKed: the proxy keeps its last good config, the next delta builds on the rejected one.
    reject = step % 5 === 2;
    const before = clients.map((c) => c.current());
    server.notifyChange('all');
    h.serverClock.advance(100);
    if (reject) {
      await waitFor(() => server.idle() && server.proxies().every((p) => p.state === 'SYNCED' || p.nackedVersion === p.sentVersion), `NACKs at step ${step}`);
      clients.forEach((c, i) => assert.equal(c.current(), before[i], `step ${step}: the last good config stays`));
      // The fix changes every proxy's config (svc-0's endpoints), so it is pushed as a delta on the rejected one.
      reject = false;
      if (!m.unready.delete('0-0')) m.unready.add('0-0');
      snapshot = snapshotOf(m);
      server.notifyChange('all');
      h.serverClock.advance(100);
    }
    await waitFor(converged, `step ${step}`);
    clients.forEach((c, i) => assert.deepEqual(c.current(), sentForm(compile(node(ids[i] as string))), `step ${step}, ${ids[i]}`));
  }
  assert.ok(deltas > 0);
  assert.equal(server.metrics.configErrors.value, 0);
});

test('a proxy that lacks a delta\'s base asks for a resync and gets the whole config', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  const world = new World();
  const { server, url } = await h.server(world);
  const session = http2.connect(url);
  t.after(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': STREAM_PATH });
  const decoder = new FrameDecoder();
  const messages: ServerMessage[] = [];
  stream.on('data', (chunk: Buffer) => messages.push(...decoder.push(chunk).map(parseServerMessage)));
  stream.write(encodeFrame({ type: 'hello', node: node('raw.default'), token: GOOD_TOKEN }));
  await waitFor(() => messages.length === 1, 'the whole config');
  world.bump('raw.default');
  server.notifyChange('all');
  h.serverClock.advance(100);
  await waitFor(() => messages.length === 2, 'the delta');
  const delta = messages[1];
  assert.equal(delta?.type, 'delta');
  if (delta?.type !== 'delta') return;

  // As if the first config never arrived: the delta cannot be rebuilt.
  stream.write(encodeFrame({ type: 'resync', version: delta.version, nonce: delta.nonce, error: 'no base' }));
  await waitFor(() => messages.length === 3, 'the whole config again');
  const whole = messages[2];
  assert.equal(whole?.type, 'config');
  if (whole?.type !== 'config') return;
  assert.equal(whole.version, delta.version);
  assert.deepEqual(whole.config, sentForm(world.compile(node('raw.default'))));
  assert.equal(server.metrics.nacks.value, 0, 'a resync is not a rejection');
  stream.write(encodeFrame({ type: 'ack', version: whole.version, nonce: whole.nonce }));
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'the ACK');
  stream.close();
});

test('the client answers a delta on a base it does not hold with resync, never applying it', async (t) => {
  // A hand-written server: the first message is already a delta, on a base the proxy never had.
  const server = http2.createServer();
  const answers: unknown[] = [];
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': CONTENT_TYPE });
    const decoder = new FrameDecoder();
    stream.on('data', (chunk: Buffer) => {
      for (const value of decoder.push(chunk)) {
        const message = parseClientMessage(value);
        if (message.type === 'hello') stream.write(encodeFrame({ type: 'delta', version: 'v2', baseVersion: 'v1', nonce: '7', upserts: { clusters: [] }, removes: {} }));
        else answers.push(message);
      }
    });
  });
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const applied: ProxyConfig[] = [];
  const client = new DiscoveryClient({
    servers: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`], node: node('x.default'), token: GOOD_TOKEN,
    apply: (config) => { applied.push(config); return { ok: true }; }, backoff: { initialMs: 100, maxMs: 100 },
  });
  t.after(() => client.stop());
  client.start();
  await waitFor(() => answers.length === 1, 'the answer');
  assert.deepEqual(answers, [{ type: 'resync', version: 'v2', nonce: '7', error: 'delta on v1, but this proxy holds no config' }]);
  assert.deepEqual(applied, []);
});

test('a proxy that stops reading is sent one frame, not one per change; it catches up with the latest when it reads again', async (t) => {
  const h = new Harness();
  t.after(() => h.closeAll());
  // A config of ~1 MiB that changes completely with every push: far beyond HTTP/2's 64 KiB window.
  let generation = 0;
  const big = (proxy: ProxyNode): ProxyConfig => ({
    ...new World().compile(proxy),
    clusters: Array.from({ length: 400 }, (_, i) => ({ ...clusterNamed(`c${String(i).padStart(4, '0')}`), connectTimeoutMs: generation * 1000 + i, source: { kind: 'Test', namespace: 'x'.repeat(2000), name: 'n' } })),
  });
  const { server, url } = await h.server(new World(), { compile: big });
  const session = http2.connect(url);
  t.after(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': STREAM_PATH });
  const decoder = new FrameDecoder(1 << 26);
  const messages: ServerMessage[] = [];
  stream.on('data', (chunk: Buffer) => messages.push(...decoder.push(chunk).map(parseServerMessage)));
  stream.write(encodeFrame({ type: 'hello', node: node('slow.default'), token: GOOD_TOKEN }));
  await waitFor(() => messages.length === 1, 'the whole config', 10_000);
  const frameBytes = encodeFrame(messages[0] as ServerMessage).length;
  assert.ok(frameBytes > 500_000, `the config frame is ${frameBytes} bytes`);

  stream.pause();
  for (let i = 0; i < 20; i++) {
    generation++;
    server.notifyChange('all');
    h.serverClock.advance(100);
    // The debounce fired as the clock advanced; the push queue drains on the next turns of the loop.
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  }
  const pushedWhilePaused = server.metrics.pushes.value - 1;
  assert.ok(pushedWhilePaused <= 1, `${pushedWhilePaused} frames written to a proxy that is not reading`);
  assert.ok(server.bufferedBytes() <= 2 * frameBytes, `${server.bufferedBytes()} bytes buffered for a frame of ${frameBytes}`);
  assert.equal(server.idle(), false, 'the latest change still waits for the proxy');

  stream.resume();
  const latest = indexConfig(big(node('slow.default'))).version;
  await waitFor(() => messages.at(-1)?.type === 'delta' && (messages.at(-1) as { version: string }).version === latest, 'the latest config', 10_000);
  assert.ok(messages.length <= 3, `${messages.length} messages: the changes in between were coalesced`);
  await waitFor(() => server.idle(), 'nothing left to push');
  stream.close();
});

test('a malformed delta is a protocol error naming the field, never half-read', () => {
  const delta = (upserts: unknown, removes: unknown = {}) => ({ type: 'delta', version: 'v2', baseVersion: 'v1', nonce: '1', upserts, removes });
  assert.throws(() => parseServerMessage(delta({ gateways: [] })), /unknown resource type upserts\.gateways/);
  assert.throws(() => parseServerMessage(delta({ endpoints: [{ name: 'x' }] })), /upserts\.endpoints must be a list of resources with a cluster/);
  assert.throws(() => parseServerMessage(delta({ mesh: [] })), /upserts\.mesh must be an object/);
  assert.throws(() => parseServerMessage(delta({}, { clusters: [1] })), /removes\.clusters must be a list of names/);
  assert.throws(() => parseServerMessage({ ...delta({}), baseVersion: 3 }), /baseVersion must be a string/);
  assert.equal(parseServerMessage(delta({ clusters: [clusterNamed('a')] }, { endpoints: ['b'] })).type, 'delta');
});
