/**
 * The dashboard from the command line: `weft control-plane --dashboard-port` (0 picks one, `none`
 * runs none, anything else is a usage error), and `weft dashboard` when no runtime is running.
 * The URL printed for a running mesh is checked in browser.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Processes, weft } from '../e2e/kit.js';
import { TestMesh } from '../runtime/testing.js';

function controlPlaneArgs(t: { after: (fn: () => void) => void }): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'weft-dashboard-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'config'));
  return ['control-plane', '--config', join(dir, 'config'), '--state-dir', join(dir, 'state'), '--port', '0', '--monitoring-port', '0', '--zipkin-port', 'none'];
}

test('weft control-plane serves the dashboard on --dashboard-port, and none with `none`', async (t) => {
  const procs = new Processes();
  t.after(() => procs.killAll());
  const args = controlPlaneArgs(t);
  const ready = await procs.start('with', [...args, '--dashboard-port', '0']).ready;
  assert.ok(ready.ports.dashboard, JSON.stringify(ready));
  const page = await fetch(`http://127.0.0.1:${ready.ports.dashboard}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Weft dashboard<\/title>/);
  const overview = (await (await fetch(`http://127.0.0.1:${ready.ports.dashboard}/api/overview`)).json()) as { replica: string; traces: boolean };
  assert.deepEqual(overview, { replica: `istiod-${ready.pid}`, namespaces: [], graph: true, traces: false });
  const none = await procs.start('without', [...controlPlaneArgs(t), '--dashboard-port', 'none']).ready;
  assert.equal(none.ports.dashboard, undefined);
});

test('a bad --dashboard-port is a usage error', (t) => {
  const r = weft(...controlPlaneArgs(t), '--dashboard-port', 'twenty');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dashboard-port takes a port number/);
});

test('weft dashboard without a running runtime says how to start one', (t) => {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  const r = mesh.weft('dashboard');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the local runtime is not running .*weft up/);
  assert.equal(r.stdout, '');
});
