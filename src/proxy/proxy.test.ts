/**
 * The proxy's life: config applied whole or not at all, hot reload under load (in-flight
 * requests and kept-alive connections survive; the next request uses the new routes), admin
 * and health endpoints, and a drain that lets in-flight work finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { ProxyConfig } from '../proxy-config/index.js';
import { startProxy, startUpstream, send, type TestUpstream } from './test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';

function gatewayTo(target: TestUpstream, version: string, extra: Partial<ProxyConfig> = {}): ProxyConfig {
  return {
    ...proxyConfig({
      version,
      listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
      routes: [{ name: 'http.80', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward(`c-${target.name}`))])] }],
      clusters: [cluster(`c-${target.name}`)],
      endpoints: [endpoints(`c-${target.name}`, [target.port])],
    }),
    ...extra,
  };
}

async function getJson(port: number, path: string): Promise<{ status: number; body: unknown; text: string }> {
  const r = await send(port, { path, host: 'localhost' });
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = undefined;
  }
  return { status: r.status, body, text: r.body };
}

test('hot reload: a long request finishes on the old routes, the same keep-alive connection then uses the new ones', async () => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  let release: () => void = () => {};
  a.handle((req, res) => {
    if (req.url === '/long') {
      res.writeHead(200);
      res.write('part1-');
      release = () => res.end('part2');
    } else res.end('a');
  });
  const p = await startProxy(gatewayTo(a, '1'));
  const port = p.port('gateway:80');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await send(port, { path: '/x', agent })).body, 'a');
    const long = send(port, { path: '/long' });
    await waitFor(() => a.received.some((r) => r.url === '/long'));
    const applied = await p.proxy.applyConfig(gatewayTo(b, '2'));
    assert.equal(applied.accepted, true);
    release();
    assert.equal((await long).body, 'part1-part2');
    // Same pooled connection (maxSockets 1, keep-alive), new routes.
    const next = await send(port, { path: '/x', agent });
    assert.equal(next.body, 'b');
    assert.equal(p.proxy.snapshot?.version, '2');
    // Two connections in all: the kept-alive one (used before and after) and the long request's.
    assert.equal(p.proxy.services.stats.get('downstream_cx_total'), 2);
  } finally {
    agent.destroy();
    await p.close();
    await Promise.all([a.close(), b.close()]);
  }
});

test('an invalid config is rejected whole; the last good one keeps serving and /config_dump says why', async () => {
  const a = await startUpstream('a');
  const p = await startProxy(gatewayTo(a, '1'));
  try {
    const bad = gatewayTo(a, '2');
    bad.routes[0]?.virtualHosts[0]?.routes.push(route('broken', {}, forward('missing-cluster')));
    const result = await p.proxy.applyConfig(bad);
    assert.equal(result.accepted, false);
    assert.ok(!result.accepted && result.errors.some((e) => e.includes('"missing-cluster" does not exist')));
    assert.equal(p.proxy.snapshot?.version, '1');
    assert.equal((await send(p.port('gateway:80'))).body, 'a');
    const dump = await getJson(p.port('admin'), '/config_dump');
    const body = dump.body as { version: string; lastRejected: { errors: string[] } };
    assert.equal(body.version, '1');
    assert.ok(body.lastRejected.errors.some((e) => e.includes('missing-cluster')));
    assert.equal((await p.proxy.applyConfig('not a config')).accepted, false);
  } finally {
    await p.close();
    await a.close();
  }
});

test('a config whose new port cannot be bound is rejected and nothing of it is applied', async () => {
  const a = await startUpstream('a');
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  // Gateway port 81 maps to a port another process already holds.
  const p = await startProxy(gatewayTo(a, '1'), { bootstrap: { portMap: new Map([[80, 0], [81, taken]]) } });
  try {
    const next = gatewayTo(a, '2');
    next.listeners.push(httpListener('0.0.0.0_81', 'gateway', 81, 'http.80'));
    const r = await p.proxy.applyConfig(next);
    assert.equal(r.accepted, false);
    assert.ok(!r.accepted && r.errors[0]?.includes(`cannot listen on 127.0.0.1:${taken}`), JSON.stringify(r));
    assert.equal(p.proxy.snapshot?.version, '1');
    assert.deepEqual(Object.keys(p.proxy.ports()).sort(), ['admin', 'gateway:80', 'health']);
    assert.equal((await send(p.port('gateway:80'))).body, 'a');
  } finally {
    await p.close();
    blocker.close();
    await a.close();
  }
});

test('admin: /config_dump redacts secrets, /stats counts, /ready and /healthz/ready follow the state, /memory reads the process', async () => {
  const a = await startUpstream('a');
  const config = gatewayTo(a, '7', { secrets: [{ name: 'gw-cert', certificateChain: '-----BEGIN CERTIFICATE-----', privateKey: '-----BEGIN PRIVATE KEY-----' }] });
  const p = await startProxy(config);
  try {
    await send(p.port('gateway:80'));
    await send(p.port('gateway:80'), { host: 'x' });
    const dump = await getJson(p.port('admin'), '/config_dump');
    assert.ok(!dump.text.includes('BEGIN PRIVATE KEY') && !dump.text.includes('BEGIN CERTIFICATE'));
    assert.deepEqual((dump.body as { config: ProxyConfig }).config.secrets, [{ name: 'gw-cert', certificateChain: '[redacted]', privateKey: '[redacted]' }]);
    const stats = await send(p.port('admin'), { path: '/stats' });
    assert.match(stats.body, /^downstream_rq_2xx: 2$/m);
    assert.match(stats.body, /^downstream_rq_total: 2$/m);
    const clusters = await getJson(p.port('admin'), '/clusters');
    assert.ok(Array.isArray(clusters.body));
    assert.equal((await send(p.port('admin'), { path: '/ready' })).body, 'LIVE\n');
    assert.equal((await send(p.port('health'), { path: '/healthz/ready' })).status, 200);
    // /memory: this process's own figures, so a real sidecar's footprint can be read in place.
    const memory = (await getJson(p.port('admin'), '/memory')).body as { process: { rss: number; heapUsed: number }; heapSpaces: Record<string, { used: number; committed: number }> };
    assert.equal(memory.process.rss > memory.process.heapUsed && memory.process.heapUsed > 0, true);
    assert.ok((memory.heapSpaces.old_space?.used ?? 0) > 0, JSON.stringify(memory.heapSpaces));
  } finally {
    await p.close();
    await a.close();
  }
});

test('drain: new connections are refused, the in-flight request completes, then everything closes', async () => {
  const a = await startUpstream('a');
  let release: () => void = () => {};
  a.handle((req, res) => {
    if (req.url === '/long') release = () => res.end('finished');
    else res.end('a');
  });
  const p = await startProxy(gatewayTo(a, '1'), { bootstrap: { drainTimeoutMs: 5000 } });
  const port = p.port('gateway:80');
  const health = p.port('health');
  try {
    const long = send(port, { path: '/long' });
    await waitFor(() => a.received.some((r) => r.url === '/long'));
    const drained = p.proxy.drain();
    await waitFor(() => p.proxy.state === 'DRAINING');
    await assert.rejects(send(port, { path: '/new' }), /ECONNREFUSED/);
    setTimeout(() => release(), 100);
    const reply = await long;
    assert.equal(reply.body, 'finished');
    assert.equal(reply.headers.connection, 'close');
    await drained;
    await assert.rejects(send(health, { path: '/healthz/ready' }), /ECONNREFUSED/);
  } finally {
    await p.close();
    await a.close();
  }
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
