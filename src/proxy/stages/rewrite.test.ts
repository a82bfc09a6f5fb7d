import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ForwardAction, RouteMatch } from '../../proxy-config/index.js';
import { matchedPathPrefix, parseSubstitution, rewriteAuthority, rewritePath } from './rewrite.js';

type Rewrite = ForwardAction['rewrite'];

test('rewrite.uri, uriRegexRewrite and full-path rewrites', () => {
  const cases: [string, Rewrite, RouteMatch, string, string][] = [
    ['no rewrite', undefined, {}, '/a', '/a'],
    ['prefix replaces only the matched prefix', { prefix: '/v2' }, { path: { prefix: '/v1' } }, '/v1/reviews', '/v2/reviews'],
    ['Istio docs: /ratings -> /v1/bookRatings', { prefix: '/v1/bookRatings' }, { path: { prefix: '/ratings' } }, '/ratings/2', '/v1/bookRatings/2'],
    ['prefix on an exact match replaces the whole path', { prefix: '/new' }, { path: { exact: '/old' } }, '/old', '/new'],
    ['prefix on a matchless route replaces "/"', { prefix: '/v2' }, {}, '/foo', '/v2foo'],
    ['ignoreCase prefix replaces the request spelling', { prefix: '/x' }, { path: { prefix: '/api', ignoreCase: true } }, '/API/a', '/x/a'],
    ['prefix on a regex match replaces the whole path', { prefix: '/r' }, { path: { regex: '/a.*' } }, '/abc', '/r'],
    ['regex with groups', { regex: { pattern: '^/service/([^/]+)(/.*)$', substitution: '\\2/instance/\\1' } }, {}, '/service/foo/v1/api', '/v1/api/instance/foo'],
    ['regex replaces every match', { regex: { pattern: 'o', substitution: '0' } }, {}, '/foo/bor', '/f00/b0r'],
    ['regex \\0 is the whole match', { regex: { pattern: '[0-9]+', substitution: '<\\0>' } }, {}, '/a/12/b/3', '/a/<12>/b/<3>'],
    ['regex with no match keeps the path', { regex: { pattern: 'zzz', substitution: 'y' } }, {}, '/a', '/a'],
    ['empty matches next to a match are skipped (RE2 GlobalReplace)', { regex: { pattern: 'a*', substitution: '-' } }, {}, 'baaac', '-b-c-'],
    ['invalid regex keeps the path', { regex: { pattern: '(', substitution: 'x' } }, {}, '/a', '/a'],
    ['full path', { path: '/replaced' }, { path: { prefix: '/a' } }, '/a/b', '/replaced'],
    ['regex wins over prefix', { prefix: '/p', regex: { pattern: '/a', substitution: '/b' } }, { path: { prefix: '/a' } }, '/a/c', '/b/c'],
  ];
  for (const [name, rewrite, match, path, expected] of cases) assert.equal(rewritePath(rewrite, match, path), expected, name);
});

test('matched prefix per path matcher', () => {
  assert.equal(matchedPathPrefix({ path: { prefix: '/v1' } }, '/v1/x'), '/v1');
  assert.equal(matchedPathPrefix({ path: { exact: '/v1' } }, '/v1'), '/v1');
  assert.equal(matchedPathPrefix({}, '/v1'), '/');
  assert.equal(matchedPathPrefix(undefined, '/v1'), '/');
});

test('substitution parsing', () => {
  assert.deepEqual(parseSubstitution('\\1-\\2'), [1, '-', 2]);
  assert.deepEqual(parseSubstitution('a\\\\b'), ['a\\b']);
  assert.deepEqual(parseSubstitution('end\\'), ['end\\']);
});

test('authority rewrite', () => {
  assert.equal(rewriteAuthority({ authority: 'reviews.prod' }, 'reviews'), 'reviews.prod');
  assert.equal(rewriteAuthority({ prefix: '/x' }, 'reviews'), 'reviews');
  assert.equal(rewriteAuthority(undefined, 'reviews'), 'reviews');
});
