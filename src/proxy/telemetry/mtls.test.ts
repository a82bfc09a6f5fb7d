/**
 * Principals and connection_security_policy with Istio mTLS between the two sidecars
 * (certificates made by the openssl CLI): the server reports the client's SPIFFE ID from its
 * certificate and `mutual_tls`; the client reports both SPIFFE IDs and, as Istio's client side
 * always does, `unknown` for the policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from '../test-kit.js';
import { startTestMesh, type MeshPki } from './test-mesh.js';
import { parseExposition, sum } from './parse.js';
import { makeTestPki } from '../test-pki.js';

function makePki(dir: string): MeshPki {
  const pki = makeTestPki(dir);
  return {
    ca: pki.ca,
    client: pki.leaf('client', 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage'),
    server: pki.leaf('server', 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews'),
  };
}

function scrape(port: number): Promise<ReturnType<typeof parseExposition>['samples']> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/stats/prometheus', agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(parseExposition(body).samples));
    }).on('error', reject);
  });
}

test('mTLS: both reporters name both principals; the server says mutual_tls', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-telemetry-mtls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mesh = await startTestMesh({ pki: makePki(dir) });
  t.after(() => mesh.close());
  for (let i = 0; i < 2; i++) assert.equal((await send(mesh.client.port('outbound'), { path: 'http://reviews:9080/reviews/1' })).status, 200);
  const done = async () => sum(await scrape(mesh.server.port('prometheus')), 'istio_requests_total') === 2 && sum(await scrape(mesh.client.port('prometheus')), 'istio_requests_total') === 2;
  for (let i = 0; i < 200 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10));

  const productpage = 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
  const reviews = 'spiffe://cluster.local/ns/default/sa/bookinfo-reviews';
  const server = await scrape(mesh.server.port('prometheus'));
  assert.equal(sum(server, 'istio_requests_total', { reporter: 'destination', source_principal: productpage, destination_principal: reviews, connection_security_policy: 'mutual_tls', source_workload: 'productpage-v1' }), 2);
  const client = await scrape(mesh.client.port('prometheus'));
  assert.equal(sum(client, 'istio_requests_total', { reporter: 'source', source_principal: productpage, destination_principal: reviews, connection_security_policy: 'unknown', destination_workload: 'reviews-v2' }), 2);
});
