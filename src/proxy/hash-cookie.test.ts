/**
 * Cookie consistent hashing through a whole proxy, as Envoy does it: with a TTL the proxy makes
 * up a missing cookie, hashes on it and returns it (Set-Cookie with Max-Age, Path, HttpOnly), so
 * the client's later requests, on new connections, reach the same upstream; a zero TTL makes a
 * session cookie; without a TTL nothing is set and requests without the cookie are spread.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { HashPolicy } from '../proxy-config/index.js';
import { startProxy, startUpstream, send, type TestProxy, type TestUpstream } from './test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';

let upstreams: TestUpstream[] = [];
let proxy: TestProxy;
let port = 0;

const policies: Record<string, HashPolicy> = {
  '/ttl': { cookie: { name: 'session', path: '/', ttlMs: 60_000 } },
  '/session': { cookie: { name: 'session', ttlMs: 0, attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure' }] } },
  '/plain': { cookie: { name: 'session' } },
};

before(async () => {
  upstreams = await Promise.all(['u0', 'u1', 'u2', 'u3'].map(startUpstream));
  const routes = Object.entries(policies).map(([prefix, hashPolicy]) => route(prefix, { path: { prefix } }, forward('echo', { hashPolicy })));
  proxy = await startProxy(proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('echo', ['*'], routes)] }],
    clusters: [cluster('echo', { loadBalancer: { policy: 'RING_HASH', minimumRingSize: 1024 } })],
    endpoints: [endpoints('echo', upstreams.map((u) => u.port))],
  }));
  port = proxy.port('gateway:80');
});

after(async () => {
  await proxy.close();
  await Promise.all(upstreams.map((u) => u.close()));
});

function cookieOf(setCookie: string[] | undefined): string | undefined {
  return setCookie?.[0]?.split(';')[0];
}

test('a missing cookie with a TTL is generated, returned with Max-Age, Path and HttpOnly, and honoured', async () => {
  const first = await send(port, { path: '/ttl' });
  assert.equal(first.status, 200);
  const set = first.headers['set-cookie'];
  assert.equal(set?.length, 1);
  assert.match(set?.[0] ?? '', /^session="[0-9a-f]{16}"; Max-Age=60; Path=\/; HttpOnly$/);
  const cookie = cookieOf(set) ?? '';
  // Later requests carry the cookie on fresh connections: the same upstream every time, no new cookie.
  for (let i = 0; i < 20; i++) {
    const r = await send(port, { path: '/ttl', headers: { cookie: `other=1; ${cookie}` } });
    assert.equal(r.body, first.body, `request ${i} with the cookie`);
    assert.equal(r.headers['set-cookie'], undefined);
  }
  // A different connection gets a different cookie (its client port differs).
  const second = await send(port, { path: '/ttl' });
  assert.notEqual(cookieOf(second.headers['set-cookie']), cookie);
});

test('the generated cookie and the same value sent back unquoted hash alike', async () => {
  const first = await send(port, { path: '/ttl' });
  const value = (cookieOf(first.headers['set-cookie']) ?? '').replace(/^session="(.*)"$/, '$1');
  const r = await send(port, { path: '/ttl', headers: { cookie: `session=${value}` } });
  assert.equal(r.body, first.body);
});

test('a zero TTL makes a session cookie (no Max-Age); attributes come before HttpOnly', async () => {
  const r = await send(port, { path: '/session' });
  assert.match(r.headers['set-cookie']?.[0] ?? '', /^session="[0-9a-f]{16}"; SameSite=Strict; Secure; HttpOnly$/);
});

test('without a TTL no cookie is set and requests without one are spread; one with it sticks', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const r = await send(port, { path: '/plain' });
    assert.equal(r.headers['set-cookie'], undefined);
    seen.add(r.body);
  }
  assert.ok(seen.size > 1, `spread over ${seen.size} upstream(s)`);
  const sticky = new Set<string>();
  for (let i = 0; i < 10; i++) sticky.add((await send(port, { path: '/plain', headers: { cookie: 'session=abc' } })).body);
  assert.equal(sticky.size, 1);
});
