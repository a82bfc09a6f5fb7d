/**
 * The demo's settings from its environment: bookinfo's client timeouts (the numbers Istio's fault
 * injection task is built on), the reviews versions, and which requests go through HTTP_PROXY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { productPageSettings } from './productpage.js';
import { reviewsSettings } from './reviews.js';
import { Upstreams } from './upstream.js';

test("bookinfo's timeouts: productpage 3 s per call and two tries at reviews; reviews v2 10 s and v3 2.5 s to ratings", () => {
  assert.deepEqual(productPageSettings({}), { detailsTimeoutMs: 3_000, reviewsTimeoutMs: 3_000, reviewsAttempts: 2, ratingsTimeoutMs: 3_000 });
  assert.deepEqual(reviewsSettings('v1', {}, 'p'), { ratingsEnabled: false, starColor: 'black', ratingsTimeoutMs: 10_000, podName: 'p' });
  assert.deepEqual(reviewsSettings('v2', {}, 'p'), { ratingsEnabled: true, starColor: 'black', ratingsTimeoutMs: 10_000, podName: 'p' });
  assert.deepEqual(reviewsSettings('v3', {}, 'p'), { ratingsEnabled: true, starColor: 'red', ratingsTimeoutMs: 2_500, podName: 'p' });
});

test("bookinfo's own knobs and the test overrides win over the version", () => {
  assert.deepEqual(reviewsSettings('v1', { ENABLE_RATINGS: 'true', STAR_COLOR: 'red', RATINGS_TIMEOUT_MS: '50' }, 'p'), { ratingsEnabled: true, starColor: 'red', ratingsTimeoutMs: 50, podName: 'p' });
  assert.equal(reviewsSettings('v2', { RATINGS_TIMEOUT_MS: 'soon' }, 'p').ratingsTimeoutMs, 10_000);
  assert.equal(productPageSettings({ REVIEWS_TIMEOUT_MS: '250' }).reviewsTimeoutMs, 250);
});

test('upstreams are http://<service>:9080, with SERVICES_DOMAIN or a <SERVICE>_URL override', () => {
  assert.equal(new Upstreams({}).baseUrl('reviews'), 'http://reviews:9080');
  assert.equal(new Upstreams({ SERVICES_DOMAIN: 'bookinfo.svc.cluster.local' }).baseUrl('ratings'), 'http://ratings.bookinfo.svc.cluster.local:9080');
  assert.equal(new Upstreams({ DETAILS_URL: 'http://127.0.0.1:4000/' }).baseUrl('details'), 'http://127.0.0.1:4000');
});

test('HTTP_PROXY (either case, with or without a scheme) is used unless NO_PROXY names the host', () => {
  const target = new URL('http://reviews:9080/reviews/0');
  assert.equal(new Upstreams({}).proxyFor(target), undefined);
  assert.equal(new Upstreams({ HTTP_PROXY: 'http://127.0.0.2:15001' }).proxyFor(target)?.host, '127.0.0.2:15001');
  assert.equal(new Upstreams({ http_proxy: '127.0.0.3:15001' }).proxyFor(target)?.host, '127.0.0.3:15001');
  const noProxy = new Upstreams({ HTTP_PROXY: 'http://127.0.0.2:15001', NO_PROXY: 'localhost, .svc.cluster.local,127.0.0.1' });
  assert.equal(noProxy.proxyFor(new URL('http://localhost:9080/')), undefined);
  assert.equal(noProxy.proxyFor(new URL('http://ratings.default.svc.cluster.local:9080/')), undefined);
  assert.equal(noProxy.proxyFor(new URL('http://127.0.0.1:9080/')), undefined);
  assert.equal(noProxy.proxyFor(target)?.host, '127.0.0.2:15001');
  assert.equal(new Upstreams({ HTTP_PROXY: 'http://127.0.0.2:15001', no_proxy: '*' }).proxyFor(target), undefined);
  assert.throws(() => new Upstreams({ HTTP_PROXY: 'https://proxy:443' }), /only http:\/\/ proxies/);
});
