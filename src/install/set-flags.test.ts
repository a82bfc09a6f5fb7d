/** `--set` parsing and application, checked against istioctl's rules (operator/pkg/values/map.go). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applySetFlag, parseSetFlag, parseValue, SetFlagError } from './set-flags.js';
import type { PlainMap } from './objects.js';

function set(spec: PlainMap, ...flags: string[]): PlainMap {
  for (const f of flags) applySetFlag(spec, parseSetFlag(f));
  return spec;
}

test('values are typed as istioctl types them', () => {
  assert.equal(parseValue('3'), 3);
  assert.equal(parseValue('-7'), -7);
  assert.equal(parseValue('1.5'), 1.5);
  assert.equal(parseValue('true'), true);
  assert.equal(parseValue('False'), false);
  assert.equal(parseValue('512Mi'), '512Mi');
  assert.equal(parseValue('/dev/stdout'), '/dev/stdout');
  assert.equal(parseValue('a\\,b'), 'a,b');
  // Tags stay strings, as Istio keeps them (1.20 is not 1.2).
  assert.equal(parseSetFlag('tag=1.20').value, '1.20');
  assert.equal(parseSetFlag('values.global.tag=1.20').value, '1.20');
  assert.equal(parseSetFlag('meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE=true').value, 'true');
});

test('paths: keys, list indexes, key selectors, escaped dots', () => {
  const spec = set({}, 'meshConfig.accessLogFile=/dev/stdout', 'values.global.proxy.resources.limits.memory=512Mi');
  assert.deepEqual(spec, { meshConfig: { accessLogFile: '/dev/stdout' }, values: { global: { proxy: { resources: { limits: { memory: '512Mi' } } } } } });

  const gws: PlainMap = { components: { ingressGateways: [{ name: 'a', enabled: true }, { name: 'b', enabled: true }] } };
  const path = applySetFlag(gws, parseSetFlag('components.ingressGateways[name:b].enabled=false'));
  assert.equal(path, 'spec.components.ingressGateways[1].enabled');
  set(gws, 'components.ingressGateways[0].k8s.replicaCount=3', 'components.ingressGateways[5].name=c');
  assert.deepEqual(gws.components, { ingressGateways: [
    { name: 'a', enabled: true, k8s: { replicaCount: 3 } },
    { name: 'b', enabled: false },
    { name: 'c' },
  ] });

  assert.deepEqual(set({}, 'values.pilot.podAnnotations.example\\.com/team=mesh'), { values: { pilot: { podAnnotations: { 'example.com/team': 'mesh' } } } });
  assert.deepEqual(set({}, 'revision=canary'), { revision: 'canary' });
});

test('bad flags are errors naming the flag', () => {
  const error = (flag: string, spec: PlainMap = {}) => {
    try {
      applySetFlag(spec, parseSetFlag(flag));
    } catch (err) {
      assert.ok(err instanceof SetFlagError);
      return err.message;
    }
    assert.fail(`${flag} was accepted`);
  };
  assert.equal(error('values.pilot.replicaCount'), '--set values.pilot.replicaCount: expected path=value, e.g. --set values.global.proxy.resources.limits.memory=512Mi');
  assert.equal(error('=3'), '--set =3: the path before "=" is empty');
  assert.equal(error('components..pilot=3'), '--set components..pilot=3: empty key in path "components..pilot" (two dots in a row)');
  assert.equal(error('components.ingressGateways[x].enabled=true'), '--set components.ingressGateways[x].enabled=true: unknown segment [x]: use [index] or [key:value]');
  assert.equal(error('components.ingressGateways[name:nope].enabled=true'), '--set components.ingressGateways[name:nope].enabled=true: no element [name:nope] in spec.components.ingressGateways');
  assert.equal(error('profile.name=x', { profile: 'demo' }), '--set profile.name=x: spec.profile is the string "demo", not a mapping');
  assert.equal(error('components.pilot[0]=x', { components: { pilot: { enabled: true } } }), '--set components.pilot[0]=x: spec.components.pilot is a mapping, not a list');
});
