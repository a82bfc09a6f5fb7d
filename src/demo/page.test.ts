/**
 * The product page's HTML: what came from the user or from another service is escaped, star
 * colors and counts are only ever what a rating can mean, and each missing part is replaced by
 * bookinfo's own error text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DETAILS_UNAVAILABLE, REVIEWS_UNAVAILABLE, renderProductPage } from './page.js';

test('a user name and review texts are escaped', () => {
  const html = renderProductPage({
    user: '<script>alert(1)</script>',
    details: { type: '"><img src=x>' },
    reviews: { podname: '<b>pod</b>', reviews: [{ reviewer: 'R&D', text: '</blockquote><script>' }] },
  });
  assert.doesNotMatch(html, /<script>|<img|<b>pod/);
  assert.match(html, /Signed in as <b>&#60;script&#62;alert\(1\)&#60;\/script&#62;<\/b>/);
  assert.match(html, /<small>R&#38;D<\/small>/);
});

test('stars: count clamped to 0..5, a color that is not a plain name shows black', () => {
  const html = renderProductPage({
    user: undefined,
    details: undefined,
    reviews: { reviews: [
      { reviewer: 'a', text: 't', rating: { stars: 9, color: 'red' } },
      { reviewer: 'b', text: 't', rating: { stars: 2, color: 'red;background:url(x)' } },
      { reviewer: 'c', text: 't', rating: { error: 'Ratings service is currently unavailable' } },
    ] },
  });
  assert.deepEqual([...html.matchAll(/style="color: (\w+)"[^>]*>(★*)/g)].map((m) => [m[1], m[2]?.length]), [['red', 5], ['black', 2]]);
  assert.match(html, /Ratings service is currently unavailable/);
  assert.match(html, new RegExp(DETAILS_UNAVAILABLE));
  assert.match(html, /Sign in/);
});

test('no reviews answer: the reviews error text and no "served by"', () => {
  const html = renderProductPage({ user: 'jason', details: { pages: 200 }, reviews: undefined });
  assert.match(html, new RegExp(REVIEWS_UNAVAILABLE));
  assert.doesNotMatch(html, /served by/);
  assert.match(html, /<dt>Pages<\/dt><dd>200<\/dd>/);
});
