/**
 * The chain a filter chain runs holds only the stages its config has: none for JWT, authz, fault
 * or CORS when nothing asks for them, each one back (in Istio's order) when its config appears,
 * and a new config (a new route configuration) gets a new plan on a running proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CorsPolicy, HttpConnectionManager, RouteConfiguration } from '../proxy-config/index.js';
import { chainPlan, HTTP_CHAIN, UPGRADE_CHAIN, type Step } from './chain.js';
import { jwtAuthnStep } from './jwt/step.js';
import { authzStep } from './http/authz-step.js';
import { faultStep, corsStep } from './http/route-steps.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';
import { send, startProxy, startUpstream } from './test-kit.js';

const hcm = (filters: HttpConnectionManager['filters'] = []): HttpConnectionManager => ({ routeConfig: 'r', filters, statPrefix: 'outbound' });
const routes = (extra: Parameters<typeof route>[3] = {}, vhostExtra: Parameters<typeof vhost>[3] = {}): RouteConfiguration => ({
  name: 'r',
  virtualHosts: [vhost('a', ['*'], [route('plain', {}, forward('c')), route('extra', { path: { prefix: '/x' } }, forward('c'), extra)], vhostExtra)],
});
const CORS: CorsPolicy = { allowOrigins: [{ exact: 'https://a.example' }], unmatchedPreflights: 'FORWARD' };
const OPTIONAL: readonly Step[] = [jwtAuthnStep, authzStep, faultStep, corsStep];
const optionalIn = (steps: readonly Step[]) => OPTIONAL.filter((s) => steps.includes(s));

test('a plain listener runs no JWT, authz, fault or CORS step; each comes back with its config, in order', () => {
  const cases: [string, HttpConnectionManager, RouteConfiguration | undefined, Step[]][] = [
    ['nothing configured', hcm(), routes(), []],
    ['no route configuration', hcm(), undefined, []],
    ['jwt-authn filter', hcm([{ kind: 'jwt-authn', rules: [] }]), routes(), [jwtAuthnStep]],
    ['authz filter', hcm([{ kind: 'authz', policies: [] }]), routes(), [authzStep]],
    ['a route with a fault', hcm(), routes({ fault: { abort: { httpStatus: 503, percent: 100 } } }), [faultStep]],
    ['a route with CORS', hcm(), routes({ cors: CORS }), [corsStep]],
    ['a virtual host with CORS', hcm(), routes({}, { cors: CORS }), [corsStep]],
    ['everything', hcm([{ kind: 'authz', policies: [] }, { kind: 'jwt-authn', rules: [] }]), routes({ fault: { delay: { fixedDelayMs: 1, percent: 1 } }, cors: CORS }), [...OPTIONAL]],
  ];
  for (const [name, h, rc, expected] of cases) {
    const plan = chainPlan(h, rc);
    assert.deepEqual(optionalIn(plan.http), expected, name);
    assert.deepEqual(optionalIn(plan.upgrade), expected, name);
    // The rest is the full chain, in its order, with its own terminal step.
    assert.deepEqual(plan.http, HTTP_CHAIN.filter((s) => !OPTIONAL.includes(s) || expected.includes(s)), name);
    assert.deepEqual(plan.upgrade, UPGRADE_CHAIN.filter((s) => !OPTIONAL.includes(s) || expected.includes(s)), name);
  }
});

test('one plan per config: the same objects share it, a new route configuration gets its own', () => {
  const h = hcm();
  const rc = routes();
  assert.equal(chainPlan(h, rc), chainPlan(h, rc));
  const withFault = routes({ fault: { abort: { httpStatus: 503, percent: 100 } } });
  assert.notEqual(chainPlan(h, withFault), chainPlan(h, rc));
  assert.deepEqual(optionalIn(chainPlan(h, withFault).http), [faultStep]);
});

test('a running proxy: a fault added by a new config aborts, and goes away with the next', async (t) => {
  const up = await startUpstream('up');
  t.after(() => up.close());
  const config = (fault: boolean) => proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward('c'), fault ? { fault: { abort: { httpStatus: 418, percent: 100 } } } : {})])] }],
    clusters: [cluster('c')],
    endpoints: [endpoints('c', [up.port])],
  });
  const p = await startProxy(config(false));
  t.after(() => p.close());
  const port = p.port('gateway:80');
  assert.equal((await send(port)).status, 200);
  assert.equal((await p.proxy.applyConfig(config(true))).accepted, true);
  const aborted = await send(port);
  assert.equal(aborted.status, 418);
  assert.equal(aborted.body, 'fault filter abort');
  assert.equal((await p.proxy.applyConfig(config(false))).accepted, true);
  assert.equal((await send(port)).status, 200);
});
