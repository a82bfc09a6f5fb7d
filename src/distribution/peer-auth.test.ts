/** The pieces of client-certificate authentication that need no handshake: SAN text and SPIFFE ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityMismatch, parseSpiffe, peerCredential, sanUris } from './peer-auth.js';
import { node } from './testing.js';

test('URIs are read from Node\'s subjectAltName text; a quoted entry cannot smuggle in a second identity', () => {
  assert.deepEqual(sanUris('URI:spiffe://cluster.local/ns/default/sa/reviews'), ['spiffe://cluster.local/ns/default/sa/reviews']);
  assert.deepEqual(sanUris('DNS:istiod.istio-system.svc, IP Address:127.0.0.1'), []);
  assert.deepEqual(sanUris('DNS:a, URI:spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/c/sa/d'), ['spiffe://td/ns/a/sa/b', 'spiffe://td/ns/c/sa/d']);
  // One URI holding ", URI:...": Node quotes it, and it stays one (invalid) identity.
  assert.deepEqual(sanUris('URI:"spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/istio-system/sa/istiod"'), ['spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/istio-system/sa/istiod']);
});

test('SPIFFE ids parse only in Istio\'s shape, and must name the hello\'s namespace and service account', () => {
  assert.deepEqual(parseSpiffe('spiffe://cluster.local/ns/default/sa/bookinfo-reviews'), { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bookinfo-reviews' });
  for (const bad of ['spiffe://cluster.local/ns/default', 'spiffe://cluster.local/ns/a/sa/b/c', 'https://cluster.local/ns/a/sa/b', 'spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/c/sa/d']) {
    assert.equal(parseSpiffe(bad), undefined, bad);
  }
  const proxy = node('reviews-v1.default');
  assert.equal(identityMismatch({ trustDomain: 'td', namespace: 'default', serviceAccount: 'default' }, proxy), undefined);
  assert.match(identityMismatch({ trustDomain: 'td', namespace: 'default', serviceAccount: 'other' }, proxy) ?? '', /service account other, but it claims namespace default, service account default/);
  assert.ok(identityMismatch({ trustDomain: 'td', namespace: 'prod', serviceAccount: 'default' }, proxy));
});

test('a cleartext session carries no certificate', () => {
  assert.deepEqual(peerCredential(undefined), { kind: 'none' });
});
