/** The pods' root-cert.pem follows the mesh root, as the kubelet refreshes a ConfigMap volume. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refreshPodRootCerts } from './root-cert-refresh.js';

test('a changed bundle is written to every pod that has a root-cert.pem, and only those', async (t) => {
  const pods = mkdtempSync(join(tmpdir(), 'weft-root-refresh-'));
  const withRoot = join(pods, 'default', 'sleep-0');
  const without = join(pods, 'default', 'app-0');
  for (const d of [withRoot, without]) mkdirSync(d, { recursive: true });
  writeFileSync(join(withRoot, 'root-cert.pem'), 'OLD');
  let bundle = 'OLD';
  const refresher = refreshPodRootCerts({ podsDir: pods, meshRootCert: () => bundle, everyMs: 10 });
  t.after(() => {
    refresher.stop();
    rmSync(pods, { recursive: true, force: true });
  });
  bundle = 'OLD+NEW';
  for (let i = 0; i < 200 && readFileSync(join(withRoot, 'root-cert.pem'), 'utf8') !== bundle; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(readFileSync(join(withRoot, 'root-cert.pem'), 'utf8'), 'OLD+NEW');
  assert.equal(existsSync(join(without, 'root-cert.pem')), false);
});
