import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyConfig } from '../proxy-config/index.js';
import { checkProxyConfig } from './config-check.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';

function valid(): ProxyConfig {
  return proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('a', ['*'], [route('r', { path: { prefix: '/' } }, forward('outbound|80||a'))])] }],
    clusters: [cluster('outbound|80||a')],
    endpoints: [endpoints('outbound|80||a', [8080])],
  });
}

test('a complete config passes', () => {
  const r = checkProxyConfig(valid());
  assert.equal(r.ok, true);
});

test('every problem is reported with its field path, not just the first', () => {
  const c = valid();
  c.listeners.push({ ...httpListener('0.0.0.0_80', 'gateway', 80, 'missing-routes') });
  const vh = c.routes[0]?.virtualHosts[0];
  assert.ok(vh);
  vh.routes.push(route('bad-regex', { path: { regex: '(' } }, forward('nope')));
  vh.routes.push(route('bad-fault', { headers: [{ name: 'x', match: { regex: 'a(?=b)' } }] }, { kind: 'direct-response', status: 200 }, { fault: { abort: { percent: 10 } } }));
  c.endpoints.push(endpoints('ghost', [1]));
  const r = checkProxyConfig(c);
  assert.equal(r.ok, false);
  const errors = r.ok ? [] : r.errors;
  const expected = [
    'listeners[1].name: duplicate name "0.0.0.0_80"',
    'listeners[1].port: port 80 is already served by listener 0.0.0.0_80',
    'listeners[1].filterChains[0].http.routeConfig: route configuration "missing-routes" does not exist',
    'routes[0].virtualHosts[0].routes[1].match.path.regex: invalid RE2 pattern',
    'routes[0].virtualHosts[0].routes[1].action.clusters[0].cluster: cluster "nope" does not exist',
    'routes[0].virtualHosts[0].routes[2].match.headers[0].match.regex: invalid RE2 pattern',
    'routes[0].virtualHosts[0].routes[2].fault.abort: an abort needs httpStatus or grpcStatus',
  ];
  for (const e of expected) assert.ok(errors.some((x) => x.startsWith(e)), `missing: ${e}\nin:\n${errors.join('\n')}`);
  assert.equal(errors.length, expected.length, errors.join('\n'));
});

test('shape errors name the field; nothing that is not a config gets through', () => {
  const cases: [unknown, string][] = [
    [null, '(root)'],
    ['{}', '(root)'],
    [{ ...valid(), listeners: 'x' }, 'listeners'],
    [{ ...valid(), mesh: { ...valid().mesh, pathNormalization: 'WHATEVER' } }, 'mesh.pathNormalization'],
  ];
  for (const [value, path] of cases) {
    const r = checkProxyConfig(value);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.errors.some((e) => e.startsWith(path)), `${path}: ${JSON.stringify(r)}`);
  }
  const bad = valid();
  const r0 = bad.routes[0]?.virtualHosts[0]?.routes[0];
  assert.ok(r0);
  r0.requestHeaders = { set: { 'x-ok': 'a\r\nx-injected: 1' } };
  const r = checkProxyConfig(bad);
  assert.ok(!r.ok && r.errors.some((e) => e.includes('requestHeaders.set') && e.includes('CR, LF or NUL')), JSON.stringify(r));
});

test('TLS chains must name secrets that exist; endpoints for unknown clusters only warn', () => {
  const c = valid();
  const l = c.listeners[0];
  assert.ok(l);
  l.filterChains.push({ name: 'tls', match: { serverNames: ['a.com'] }, protocol: 'tcp', tls: { mode: 'SIMPLE', certificate: 'gw-cert' }, tcp: { clusters: [{ cluster: 'outbound|80||a', weight: 1 }], statPrefix: 'tcp' } });
  const r = checkProxyConfig(c);
  assert.ok(!r.ok && r.errors.some((e) => e === 'listeners[0].filterChains[1].tls.certificate: secret "gw-cert" does not exist'), JSON.stringify(r));
  c.secrets.push({ name: 'gw-cert', certificateChain: 'x', privateKey: 'y' });
  c.endpoints.push(endpoints('ghost', [1]));
  const ok = checkProxyConfig(c);
  assert.ok(ok.ok && ok.warnings.length === 1 && ok.warnings[0]?.includes('"ghost"'), JSON.stringify(ok));
});
