import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources, type LoadResult } from '../load.js';

function load(spec: string, namespace = 'foo'): LoadResult {
  return loadResources([{ file: 'pa.yaml', text: `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: pa
  namespace: ${namespace}
spec:
${spec}` }]);
}

function problems(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test('a workload policy with port-level mTLS loads with its modes', () => {
  const r = load(`  selector:
    matchLabels:
      app: ratings
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
    "9090": {}
`);
  assert.deepEqual(problems(r), []);
  const [pa] = r.resources;
  assert.ok(pa?.kind === 'PeerAuthentication');
  assert.equal(pa.spec.mtls?.mode, 'STRICT');
  assert.equal(pa.spec.portLevelMtls?.['8080']?.mode, 'DISABLE');
  assert.equal(pa.spec.portLevelMtls?.['9090']?.mode, undefined);
});

test('an empty spec is a namespace policy with mode UNSET (inherit)', () => {
  const r = loadResources([{ file: 'pa.yaml', text: 'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\n' }]);
  assert.deepEqual(problems(r), []);
  assert.deepEqual(r.resources[0]?.spec, {});
});

test('port keys must be port numbers', () => {
  const r = load(`  selector: {matchLabels: {app: a}}
  portLevelMtls:
    "0": {mode: STRICT}
    web: {mode: STRICT}
`);
  assert.deepEqual(problems(r), [
    '9 Error spec.portLevelMtls["0"]: port must be between 1-65535, got 0',
    '10 Error spec.portLevelMtls.web: port "web" is not a number: portLevelMtls keys must be port numbers',
  ]);
});

test('portLevelMtls needs a selector with labels and at least one port', () => {
  assert.deepEqual(problems(load('  portLevelMtls:\n    "80": {mode: STRICT}\n')), [
    '8 Error spec.portLevelMtls: portLevelMtls requires selector: mesh/namespace peer authentication cannot have port level mTLS',
  ]);
  assert.deepEqual(problems(load('  selector: {matchLabels: {app: a}}\n  portLevelMtls: {}\n')), [
    '8 Error spec.portLevelMtls: port level mTLS, if defined, must have at least one element',
  ]);
});

test('a selector in the root namespace is ignored by Istio, so it is a warning', () => {
  const r = load('  selector: {matchLabels: {app: a}}\n  mtls: {mode: STRICT}\n', 'istio-system');
  assert.equal(r.ok, true);
  assert.deepEqual(problems(r), [
    "7 Warning spec.selector: a PeerAuthentication with a selector in the root namespace (istio-system) is ignored; put it in the workload's namespace, or remove the selector to make it mesh-wide",
  ]);
  assert.deepEqual(problems(load('  mtls: {mode: STRICT}\n', 'istio-system')), []);
});

test('unknown modes and fields are errors', () => {
  assert.deepEqual(problems(load('  mtls: {mode: REQUIRED}\n')), ['7 Error spec.mtls.mode: unsupported value "REQUIRED"; expected one of UNSET, DISABLE, PERMISSIVE, STRICT']);
  assert.deepEqual(problems(load('  mtls: {mode: STRICT}\n  mode: STRICT\n')), ['8 Error spec.mode: unknown field "mode"']);
});
