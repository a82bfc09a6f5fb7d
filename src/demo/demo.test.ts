/**
 * The demo application as real processes on loopback: productpage behind a recording HTTP proxy
 * (the plain network mode's sidecar) and directly wired through `<SERVICE>_URL`, reviews in its
 * three versions, details and ratings. What Istio's bookinfo tasks rely on is checked here: stars
 * per version, sign-in turning into `end-user`, trace headers reaching ratings unchanged, and
 * bookinfo's error texts and client timeouts when a service fails or is slow.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FORWARDED_HEADERS } from './headers.js';
import { DETAILS_UNAVAILABLE, REVIEWS_UNAVAILABLE } from './page.js';
import { RATINGS_UNAVAILABLE } from './reviews.js';
import { request, startBrokenService, startDemo, startRecordingProxy, stopAll, type DemoProcess, type RecordingProxy } from './testkit.js';

const filledStars = (html: string) => [...html.matchAll(/★/g)].length;
const starColors = (html: string) => [...html.matchAll(/class="stars" style="color: (\w+)"/g)].map((m) => m[1]);

describe('the demo application', () => {
  const started: DemoProcess[] = [];
  let proxy: RecordingProxy;
  let broken: Awaited<ReturnType<typeof startBrokenService>>;
  let details: DemoProcess, ratings: DemoProcess, reviewsV1: DemoProcess;
  let proxied: DemoProcess, direct: DemoProcess, failing: DemoProcess;
  let jasonCookie = '';

  before(async () => {
    proxy = await startRecordingProxy();
    broken = await startBrokenService();
    const viaProxy = { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` };
    let reviewsV2: DemoProcess;
    [details, ratings, reviewsV1, reviewsV2] = await Promise.all([
      startDemo(['details'], {}, started),
      startDemo(['ratings'], {}, started),
      startDemo(['reviews', '--variant', 'v1'], { POD_NAME: 'reviews-v1-test' }, started),
      startDemo(['reviews', '--variant', 'v2'], { ...viaProxy, POD_NAME: 'reviews-v2-test' }, started),
    ]);
    for (const [name, p] of [['details', details], ['ratings', ratings], ['reviews', reviewsV1], ['reviews-jason', reviewsV2]] as const) proxy.routes.set(name, p.port);
    const reviewsV3 = await startDemo(['reviews', '--variant', 'v3'], { RATINGS_URL: `http://127.0.0.1:${ratings.port}` }, started);
    [proxied, direct, failing] = await Promise.all([
      // Bookinfo's 3 s per call to reviews, shortened so the delay test waits 2 x 1 s, not 6 s.
      startDemo(['productpage'], { ...viaProxy, REVIEWS_TIMEOUT_MS: '1000' }, started),
      startDemo(['productpage'], { DETAILS_URL: `http://127.0.0.1:${details.port}`, REVIEWS_URL: `http://127.0.0.1:${reviewsV3.port}/` }, started),
      startDemo(['productpage'], { DETAILS_URL: `http://127.0.0.1:${broken.port}`, REVIEWS_URL: `http://127.0.0.1:${broken.port}`, DETAILS_TIMEOUT_MS: '300', REVIEWS_TIMEOUT_MS: '300' }, started),
    ]);
  });

  after(async () => {
    await stopAll(started);
    await proxy?.close();
    await broken?.close();
  });

  test('each service answers its health check and its JSON API', async () => {
    assert.deepEqual(JSON.parse((await request(details.port, '/health')).body), { status: 'Details is healthy' });
    assert.deepEqual(JSON.parse((await request(ratings.port, '/health')).body), { status: 'Ratings is healthy' });
    assert.deepEqual(JSON.parse((await request(reviewsV1.port, '/health')).body), { status: 'Reviews is healthy' });
    assert.equal((await request(direct.port, '/health')).body, 'Product page is healthy');
    const book = JSON.parse((await request(details.port, '/details/0')).body) as Record<string, unknown>;
    assert.equal(book['ISBN-10'], '1234567890');
    assert.deepEqual(JSON.parse((await request(ratings.port, '/ratings/0')).body), { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    assert.equal((await request(ratings.port, '/ratings/zero')).status, 400);
    assert.equal((await request(details.port, '/nothing')).status, 404);
    const v1 = JSON.parse((await request(reviewsV1.port, '/reviews/0')).body) as { podname: string; reviews: { rating?: unknown }[] };
    assert.equal(v1.podname, 'reviews-v1-test');
    assert.deepEqual(v1.reviews.map((r) => r.rating), [undefined, undefined]);
  });

  test('anonymous: reviews v1 without stars, details, "Sign in"; calls go to the proxy in absolute-URI form', async () => {
    const requestId = 'anon-1';
    const page = await request(proxied.port, '/productpage', { headers: { 'x-request-id': requestId } });
    assert.equal(page.status, 200);
    assert.match(page.body, /Sign in/);
    assert.match(page.body, /<dd>123-1234567890<\/dd>/);
    assert.match(page.body, /Reviews served by: <span id="served-by">reviews-v1-test/);
    assert.equal(filledStars(page.body), 0);
    const seen = proxy.requests.filter((r) => r.headers['x-request-id'] === requestId);
    assert.deepEqual(seen.map((r) => r.url).sort(), ['http://details:9080/details/0', 'http://reviews:9080/reviews/0']);
    assert.deepEqual(seen.map((r) => r.headers.host).sort(), ['details:9080', 'reviews:9080']);
    assert.ok(seen.every((r) => r.headers['end-user'] === undefined));
  });

  test('an end-user header from the client is not forwarded: only signing in sets it', async () => {
    await request(proxied.port, '/productpage', { headers: { 'x-request-id': 'claims-jason', 'end-user': 'jason' } });
    const seen = proxy.requests.filter((r) => r.headers['x-request-id'] === 'claims-jason');
    assert.equal(seen.length, 2);
    assert.ok(seen.every((r) => r.headers['end-user'] === undefined));
  });

  test('signing in as jason sets a session cookie; his calls carry end-user: jason and reach v2 (black stars)', async () => {
    const login = await request(proxied.port, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: 'http://bookinfo.example/productpage' },
      body: 'username=jason&passwd=jason',
    });
    assert.equal(login.status, 302);
    assert.equal(login.headers.location, '/productpage');
    const setCookie = login.headers['set-cookie']?.[0] ?? '';
    assert.match(setCookie, /^session=[^;]+; Path=\//);
    jasonCookie = setCookie.split(';')[0] ?? '';
    const page = await request(proxied.port, '/productpage', { headers: { cookie: jasonCookie, 'x-request-id': 'jason-1' } });
    assert.match(page.body, /Signed in as <b>jason<\/b>/);
    assert.doesNotMatch(page.body, /Sign in</);
    assert.deepEqual(starColors(page.body), ['black', 'black']);
    assert.equal(filledStars(page.body), 9);
    const seen = proxy.requests.filter((r) => r.headers['x-request-id'] === 'jason-1');
    assert.deepEqual(seen.map((r) => [r.url, r.headers['end-user']]).sort(), [
      ['http://details:9080/details/0', 'jason'],
      ['http://ratings:9080/ratings/0', 'jason'],
      ['http://reviews:9080/reviews/0', 'jason'],
    ]);
    const logout = await request(proxied.port, '/logout', { headers: { cookie: jasonCookie } });
    assert.equal(logout.status, 302);
    assert.match(logout.headers['set-cookie']?.[0] ?? '', /^session=; Path=\/; Max-Age=0/);
  });

  test('trace headers reach ratings unchanged through productpage and reviews', async () => {
    const trace: Record<string, string> = {
      'x-request-id': 'trace-7f3a',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'weft=1,other=x',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
      'x-b3-flags': '0',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90',
      'x-ot-span-context': 'ot-context',
      'user-agent': 'demo-test/1.0',
    };
    await request(proxied.port, '/productpage', { headers: { ...trace, cookie: jasonCookie } });
    const atRatings = proxy.requests.find((r) => r.headers['x-request-id'] === trace['x-request-id'] && r.url.startsWith('http://ratings:9080/'));
    assert.ok(atRatings, 'reviews v2 called ratings through the proxy');
    for (const [name, value] of Object.entries(trace)) assert.equal(atRatings.headers[name], value, name);
    assert.equal(atRatings.headers.cookie, jasonCookie);
    assert.equal(atRatings.headers['end-user'], 'jason');
    assert.ok(FORWARDED_HEADERS.includes('end-user'));
  });

  test('wired directly with <SERVICE>_URL: reviews v3 shows red stars', async () => {
    const page = await request(direct.port, '/productpage');
    assert.deepEqual(starColors(page.body), ['red', 'red']);
    assert.equal(filledStars(page.body), 9);
    const api = JSON.parse((await request(direct.port, '/api/v1/products/0/reviews')).body) as { reviews: { rating: { color: string } }[] };
    assert.deepEqual(api.reviews.map((r) => r.rating.color), ['red', 'red']);
  });

  test('ratings aborted with 500 for jason: "Ratings service is currently unavailable", the page still loads', async (t) => {
    proxy.faults.abortRatingsFor = 'jason';
    t.after(() => delete proxy.faults.abortRatingsFor);
    const page = await request(proxied.port, '/productpage', { headers: { cookie: jasonCookie } });
    assert.equal(page.status, 200);
    assert.equal(page.body.split(RATINGS_UNAVAILABLE).length - 1, 2);
    assert.equal(filledStars(page.body), 0);
    assert.match(page.body, /Reviews served by: <span id="served-by">reviews-v2-test/);
  });

  test('ratings delayed past productpage\'s two reviews attempts: the reviews error text, after one retry', async (t) => {
    // The 7 s delay task, scaled: v2 waits 10 s for ratings, productpage 2 attempts of 1 s for reviews.
    proxy.faults.delayRatingsMsFor = { user: 'jason', ms: 2_500 };
    t.after(() => delete proxy.faults.delayRatingsMsFor);
    const page = await request(proxied.port, '/productpage', { headers: { cookie: jasonCookie, 'x-request-id': 'delay-1' } });
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(REVIEWS_UNAVAILABLE));
    assert.match(page.body, /<dd>paperback<\/dd>/);
    assert.equal(proxy.requests.filter((r) => r.headers['x-request-id'] === 'delay-1' && r.url.startsWith('http://reviews:')).length, 2);
  });

  test('reviews and details failing: the error texts in their place, reviews tried twice', async () => {
    broken.mode.status = 503;
    const before = broken.calls.length;
    const page = await request(failing.port, '/productpage');
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(REVIEWS_UNAVAILABLE));
    assert.match(page.body, new RegExp(DETAILS_UNAVAILABLE));
    const calls = broken.calls.slice(before).map((c) => c.url).sort();
    assert.deepEqual(calls, ['/details/0', '/reviews/0', '/reviews/0']);
    const api = await request(failing.port, '/api/v1/products/0/reviews');
    assert.equal(api.status, 503);
    assert.deepEqual(JSON.parse(api.body), { error: REVIEWS_UNAVAILABLE });
  });

  test('reviews not answering: productpage gives up after its timeout, twice, and shows the error text', async () => {
    broken.mode.status = 'hang';
    const before = broken.calls.length;
    const page = await request(failing.port, '/productpage');
    assert.equal(page.status, 200);
    assert.match(page.body, new RegExp(REVIEWS_UNAVAILABLE));
    assert.equal(broken.calls.slice(before).filter((c) => c.url === '/reviews/0').length, 2);
  });
});

describe('weft demo, the command', () => {
  test('SIGTERM stops a service cleanly', async (t) => {
    const started: DemoProcess[] = [];
    t.after(() => stopAll(started));
    const p = await startDemo(['ratings'], {}, started);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  test('an unknown service or reviews version is refused with the choices', async (t) => {
    const started: DemoProcess[] = [];
    t.after(() => stopAll(started));
    await assert.rejects(startDemo(['catalog'], {}, started), /exited \(2\)[\s\S]*unknown service "catalog": expected one of productpage, details, reviews, ratings/);
    await assert.rejects(startDemo(['reviews', '--variant', 'v4'], {}, started), /exited \(2\)[\s\S]*--variant "v4": expected one of v1, v2, v3/);
  });
});
