/**
 * The TLS path (for workload certificates later): the same protocol over HTTP/2 with TLS. Uses a
 * throwaway self-signed certificate from the openssl CLI; skipped where openssl is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness, waitFor, World } from './testing.js';

function selfSigned(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'weft-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=istiod', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pem = selfSigned();

test('config is pushed over TLS, and a client that does not trust the server certificate gets nothing', { skip: pem ? false : 'openssl not available' }, async (t) => {
  if (!pem) return;
  const h = new Harness();
  t.after(() => h.closeAll());
  const { server, url } = await h.server(new World(), { tls: { key: pem.key, cert: pem.cert } });
  const httpsUrl = url.replace('http://', 'https://');

  const trusting = h.client([httpsUrl], 'reviews-v1.default', { tls: { ca: pem.cert } });
  await waitFor(() => server.proxies()[0]?.state === 'SYNCED', 'SYNCED over TLS');
  assert.ok(trusting.client.current());

  const wary = h.client([httpsUrl], 'ratings-v1.default');
  await waitFor(() => wary.events.length > 0, 'the TLS failure');
  assert.match(wary.events[0] ?? '', /^disconnected self-signed certificate retry 50$/);
  assert.equal(server.proxies().length, 1);
});
