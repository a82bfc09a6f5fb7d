/** The control plane's side of a CA change: the bundle widens first, the new CA signs once proxies have it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSelfSignedCa, rotateSelfSignedRoot } from '../ca/index.js';
import type { ProxyConfig } from '../proxy-config/index.js';
import type { ProxyStatus } from '../distribution/index.js';
import { silentLogger } from '../lib/log.js';
import { MeshCertificates, ROOT_CA_SECRET, waitForAcks } from './certificates.js';
import { watchCaFiles } from './certificates-watch.js';

function cas(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cp-rotation-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const before = loadSelfSignedCa(dir);
  rotateSelfSignedRoot(dir, { graceMs: 3_600_000 });
  return { before, after: loadSelfSignedCa(dir), dir };
}

const config = { secrets: [{ name: 'default' }, { name: ROOT_CA_SECRET }] } as unknown as ProxyConfig;

test('replace: the union of both CAs\' roots is pushed first and the old CA signs until the proxies have it; then the new CA signs', async (t) => {
  const { before, after } = cas(t);
  let release: () => void = () => undefined;
  const events: string[] = [];
  const certs = new MeshCertificates(before, { propagated: () => new Promise<void>((resolve) => { release = resolve; }) });
  certs.on('bundle', (b) => events.push(`bundle:${b.split('BEGIN CERTIFICATE').length - 1}`));
  certs.on('signer', () => events.push('signer'));
  certs.on('settled', (_ca, changed) => events.push(`settled:${changed}`));
  const root = () => certs.attach(config).secrets.find((s) => s.name === ROOT_CA_SECRET);
  assert.equal(root()?.trustedCa, before.trustBundle);
  assert.equal(root()?.signingCa, before.signingCertificate.toString());

  const done = certs.replace(after);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['bundle:2']);
  assert.equal(certs.signer(), before, 'the old CA signs while the bundle propagates');
  assert.equal(root()?.signingCa, before.signingCertificate.toString());
  assert.ok(root()?.trustedCa?.includes(after.signingCertificate.toString()));
  assert.equal(certs.attach(config).secrets.filter((s) => s.name === ROOT_CA_SECRET).length, 1, 'the compiler\'s ROOTCA is replaced, not duplicated');
  release();
  await done;
  assert.equal(certs.signer(), after);
  assert.equal(root()?.signingCa, after.signingCertificate.toString());
  assert.equal(certs.trustBundle(), after.trustBundle);
  assert.deepEqual(events.slice(-2), ['signer', 'settled:true']);
});

test('replace: a CA whose roots are already trusted signs at once; a newer replace supersedes one still waiting', async (t) => {
  const { before, after } = cas(t);
  const waits: (() => void)[] = [];
  const certs = new MeshCertificates(before, { propagated: () => new Promise<void>((resolve) => waits.push(resolve)) });
  const first = certs.replace(after);
  await new Promise((r) => setImmediate(r));
  assert.equal(waits.length, 1);
  // Back to the old CA before the first finished: its roots are in the union already, no second wait.
  await certs.replace(before);
  assert.equal(certs.signer(), before);
  waits[0]?.();
  await first;
  assert.equal(certs.signer(), before, 'the superseded replace does not switch');
});

test('waitForAcks: done once every proxy connected at the start ACKed a newer version or left, not before the minimum', async () => {
  const status = (nodeId: string, sent: string, acked: string): ProxyStatus => ({ nodeId, role: 'sidecar', namespace: 'default', revision: '', replica: 'r', connectedAt: 0, sentVersion: sent, ackedVersion: acked, state: 'SYNCED' } as ProxyStatus);
  let proxies = [status('a', 'v1', 'v1'), status('b', 'v1', 'v1')];
  let done = false;
  const waiting = waitForAcks(() => proxies, { minMs: 0, maxMs: 10_000, pollMs: 5 }).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 30));
  proxies = [status('a', 'v2', 'v1'), status('b', 'v2', 'v2')];
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(done, false, 'a has not ACKed');
  proxies = [status('b', 'v2', 'v2')];
  await waiting;
  const started = Date.now();
  await waitForAcks(() => [], { minMs: 100, maxMs: 10_000, pollMs: 5 });
  assert.ok(Date.now() - started >= 100);
  await waitForAcks(() => [status('c', 'v1', 'v1')], { minMs: 0, maxMs: 50, pollMs: 5 }); // bounded: a proxy that never ACKs
});

test('the self-signed root rotates itself when less than the grace percentile of its life is left (Istio\'s rotator), once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cp-rotation-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A root with 20 s left of 80 s (backdated a minute): under 50 %.
  loadSelfSignedCa(dir);
  rotateSelfSignedRoot(dir, { graceMs: 3_600_000, rootTtlMs: 20_000 });
  const watcher = watchCaFiles({ selfSigned: dir, reloadMs: 100, rootCheckMs: 100, rootGracePercent: 50, rootRotationGraceMs: 60_000, log: silentLogger });
  const short = watcher.current();
  t.after(() => watcher.stop());
  const changed = new Promise<void>((resolve) => watcher.once('changed', () => resolve()));
  // The watcher's timers do not hold a process open (a control plane has its servers for that).
  const alive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(alive));
  watcher.start();
  await changed;
  const rotated = watcher.current();
  assert.notEqual(rotated.signingCertificate.fingerprint256, short.signingCertificate.fingerprint256);
  assert.ok(rotated.roots.some((r) => r.fingerprint256 === short.signingCertificate.fingerprint256), 'the old root stays in the bundle');
  assert.ok(new Date(rotated.signingCertificate.validTo).getTime() - Date.now() > 70_000, 'the new root lives as long as the old one did');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(watcher.current(), rotated, 'and it is not rotated again');
});
