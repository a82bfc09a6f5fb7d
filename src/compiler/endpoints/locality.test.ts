/**
 * Locality load balancing in the compiler, case by case against Istio's loadbalancer.go: which
 * setting applies, priorities by distance and failover, distribute weights, failoverPriority.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../../proxy-config/index.js';
import { applyLocalityLb, localityMatches, type LocalityContext } from './locality.js';
import { localityLbSetting } from '../clusters/traffic-policy.js';
import type { MeshLocalityLbSetting } from '../../registry/index.js';

function ep(address: string, locality: string, labels: Record<string, string> = {}, weight = 1): Endpoint {
  return { address, port: 80, weight, labels, tlsMode: 'disabled', healthy: true, ...(locality ? { locality } : {}) };
}

const EPS = [ep('10.0.0.1', 'us-east/a/1'), ep('10.0.0.2', 'us-east/a/2'), ep('10.0.0.3', 'us-east/b'), ep('10.0.0.4', 'us-west/a'), ep('10.0.0.5', 'eu-west/a'), ep('10.0.0.6', '')];

function summary(out: Endpoint[]): string[] {
  return out.map((e) => `${e.address} P${e.priority ?? 0}${e.localityWeight !== undefined ? ` w${e.localityWeight}` : ''}`);
}

function ctx(setting: LocalityContext['setting'], extra: Partial<LocalityContext> = {}): LocalityContext {
  return { proxyLocality: 'us-east/a/1', proxyLabels: { app: 'client' }, setting, enableFailover: true, ...extra };
}

test('which setting applies: the DestinationRule\'s unless disabled, else the mesh default unless disabled', () => {
  const mesh = { enabled: true };
  const own = { failover: [{ from: 'us-east', to: 'eu-west' }] };
  assert.equal(localityLbSetting(undefined, mesh), mesh);
  assert.equal(localityLbSetting({ loadBalancer: { localityLbSetting: own } }, mesh), own);
  assert.equal(localityLbSetting({ loadBalancer: { localityLbSetting: { enabled: false } } }, mesh), undefined);
  assert.equal(localityLbSetting(undefined, { enabled: false }), undefined);
  assert.equal(localityLbSetting(undefined, undefined), undefined);
  // A DR setting without `enabled` applies even when the mesh turns locality LB off.
  assert.equal(localityLbSetting({ loadBalancer: { localityLbSetting: own } }, { enabled: false }), own);
});

test('failover by distance: subzone, zone, region, elsewhere; renumbered without gaps; weights once a level holds two localities', () => {
  assert.deepEqual(summary(applyLocalityLb(EPS, ctx({}))), [
    '10.0.0.1 P0 w1', '10.0.0.2 P1 w1', '10.0.0.3 P2 w1', '10.0.0.4 P3 w1', '10.0.0.5 P3 w1', '10.0.0.6 P3 w1',
  ]);
  // From us-east/b: its own zone, then the rest of us-east, then elsewhere (distances 0, 2, 3 renumbered).
  assert.deepEqual(summary(applyLocalityLb(EPS, ctx({}, { proxyLocality: 'us-east/b' }))), [
    '10.0.0.1 P1 w1', '10.0.0.2 P1 w1', '10.0.0.3 P0 w1', '10.0.0.4 P2 w1', '10.0.0.5 P2 w1', '10.0.0.6 P2 w1',
  ]);
});

test('failover from -> to: the named region comes before every other one', () => {
  const out = applyLocalityLb(EPS, ctx({ failover: [{ from: 'us-east', to: 'eu-west' }] }));
  assert.deepEqual(summary(out), ['10.0.0.1 P0 w1', '10.0.0.2 P1 w1', '10.0.0.3 P2 w1', '10.0.0.4 P4 w1', '10.0.0.5 P3 w1', '10.0.0.6 P4 w1']);
});

test('no outlier detection: no failover, endpoints unchanged', () => {
  assert.deepEqual(applyLocalityLb(EPS, ctx({ failover: [{ from: 'us-east', to: 'eu-west' }] }, { enableFailover: false })), EPS);
});

test('distribute: the first matching `from`; a wildcard shares its weight by endpoint weight (rounded up); others dropped', () => {
  const eps = [ep('10.0.0.1', 'us-east/a'), ep('10.0.0.2', 'us-west/a', {}, 3), ep('10.0.0.3', 'us-west/b'), ep('10.0.0.4', 'eu-west/a')];
  const setting: MeshLocalityLbSetting = { distribute: [{ from: 'eu-west/*', to: { 'eu-west/*': 100 } }, { from: 'us-east/*', to: { 'us-east/a': 50, 'us-west/*': 50 } }] };
  // us-west/a weighs 3 of the 4 endpoint weight in us-west/*: 37.5 -> 38, us-west/b 12.5 -> 13.
  assert.deepEqual(summary(applyLocalityLb(eps, ctx(setting, { proxyLocality: 'us-east/a', enableFailover: false }))), ['10.0.0.1 P0 w50', '10.0.0.2 P0 w38', '10.0.0.3 P0 w13']);
  // No rule matches: nothing dropped, localities weighted by their endpoint weights.
  assert.deepEqual(summary(applyLocalityLb(eps, ctx(setting, { proxyLocality: 'ap-south/a' }))), ['10.0.0.1 P0 w1', '10.0.0.2 P0 w3', '10.0.0.3 P0 w1', '10.0.0.4 P0 w1']);
});

test('failoverPriority: longest matching label prefix first; `label=value` compares with the value; topology labels from localities', () => {
  const eps = [
    ep('10.0.0.1', 'us-east/a', { net: 'n1', team: 'red' }),
    ep('10.0.0.2', 'us-east/a', { net: 'n1', team: 'blue' }),
    ep('10.0.0.3', 'us-west/a', { net: 'n1', team: 'red' }),
    ep('10.0.0.4', 'us-east/b', { net: 'n2', team: 'red' }),
  ];
  const proxy = { proxyLocality: 'us-east/a', proxyLabels: { net: 'n1', team: 'red' } };
  assert.deepEqual(summary(applyLocalityLb(eps, ctx({ failoverPriority: ['net', 'topology.kubernetes.io/region', 'team'] }, proxy))), [
    '10.0.0.1 P0', '10.0.0.2 P1', '10.0.0.3 P2', '10.0.0.4 P3',
  ]);
  assert.deepEqual(summary(applyLocalityLb(eps, ctx({ failoverPriority: ['team=blue'] }, proxy))), ['10.0.0.1 P1 w1', '10.0.0.2 P0 w1', '10.0.0.3 P1 w1', '10.0.0.4 P1 w1']);
  // With failover as well, locality distance orders endpoints within each label level.
  assert.deepEqual(summary(applyLocalityLb(eps, ctx({ failoverPriority: ['net'], failover: [{ from: 'us-east', to: 'eu-west' }] }, proxy))), [
    '10.0.0.1 P0', '10.0.0.2 P0', '10.0.0.3 P1', '10.0.0.4 P2',
  ]);
  // A proxy with no labels and no locality: Istio skips failoverPriority.
  assert.deepEqual(summary(applyLocalityLb(eps, ctx({ failoverPriority: ['net'] }, { proxyLocality: '', proxyLabels: {} }))), ['10.0.0.1 P0 w2', '10.0.0.2 P0 w2', '10.0.0.3 P0 w1', '10.0.0.4 P0 w1']);
});

test('LocalityMatch: region, zone and subzone with `*` and omitted parts', () => {
  const table: [string, string, boolean][] = [
    ['us-east/a/1', 'us-east', true], ['us-east/a/1', 'us-east/*', true], ['us-east/a/1', 'us-east/a/*', true],
    ['us-east/a/1', 'us-east/b', false], ['us-east/a/1', '*', true], ['us-east/a/1', 'us-east/a/2', false], ['', 'us-east', false],
  ];
  for (const [locality, rule, expected] of table) assert.equal(localityMatches(locality, rule), expected, `${locality} ~ ${rule}`);
});
