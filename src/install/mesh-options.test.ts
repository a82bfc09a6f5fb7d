/**
 * A control plane reads its meshConfig from its own revision's installed state: the demo
 * profile's access log and 100% sampling reach the revision installed with it, and not another
 * revision installed beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadResources } from '../resources/index.js';
import { meshOptionsFrom } from '../registry/index.js';
import { resolveOperator } from './operator.js';
import { renderInstall } from './render.js';

function installedStates(...installs: { sets: string[]; revision?: string }[]) {
  const objects = installs.flatMap((input) => {
    const r = resolveOperator({ files: [], ...input });
    assert.ok(r.ok);
    return renderInstall(r.operator).filter((o) => o.kind === 'IstioOperator');
  });
  const loaded = loadResources([{ file: 'store', text: objects.map((o) => stringify(o)).join('---\n') }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
  return loaded.resources;
}

test('each revision\'s control plane gets its own meshConfig', () => {
  const resources = installedStates({ sets: ['meshConfig.outboundTrafficPolicy.mode=REGISTRY_ONLY'] }, { sets: ['profile=demo'], revision: 'canary' });
  const canary = meshOptionsFrom(resources, 'canary');
  assert.deepEqual(canary.tracing, { samplingPercent: 100 });
  assert.equal(canary.accessLog?.encoding, 'TEXT');
  assert.equal(canary.outboundTrafficPolicy, 'ALLOW_ANY');
  for (const rev of ['', 'default']) {
    const main = meshOptionsFrom(resources, rev);
    assert.equal(main.outboundTrafficPolicy, 'REGISTRY_ONLY');
    assert.equal(main.accessLog, undefined);
    assert.deepEqual(main.tracing, { samplingPercent: 1 });
  }
  assert.equal(meshOptionsFrom(resources, 'other').outboundTrafficPolicy, 'ALLOW_ANY');
});
