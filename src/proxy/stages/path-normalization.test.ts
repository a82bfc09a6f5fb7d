import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSlashes, normalizePath, unescapeSlashes, type PathNormalization } from './path-normalization.js';

type Case = [raw: string, expected: string | 400];

function check(mode: PathNormalization, cases: Case[]): void {
  for (const [raw, expected] of cases) {
    const got = normalizePath(raw, mode);
    const actual = 'reject' in got ? got.reject : got.path + got.query;
    assert.equal(actual, expected, `${mode} ${JSON.stringify(raw)}`);
  }
}

test('BASE: RFC 3986 normalization, every example of Envoy path_utility_test and ISTIO-SEMANTICS §10', () => {
  check('BASE', [
    ['/xyz', '/xyz'],
    ['/x/y/z', '/x/y/z'],
    ['/a/b/../c', '/a/c'],
    ['/a/b/./c', '/a/b/c'],
    ['a/b/../c', '/a/c'],
    ['/a/b/../../../../c', '/c'],
    ['/../a/b', '/a/b'],
    ['/./a/b', '/a/b'],
    ['..', '/'],
    ['/a/..\\c', '/c'],
    ['\\da', '/da'],
    ['/%c0%af', '/%c0%af'],
    ['/%5c%25', '/%5c%25'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/a/b/%2e%2e/c', '/a/c'],
    ['/a/b/%2E./c', '/a/c'],
    ['/a/b/%2E/c', '/a/b/c'],
    ['/A/B/C', '/A/B/C'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    // Newer Envoy strips parameters from dot segments before resolving them.
    ['/xyz/..;foo=bar/abc', '/abc'],
    ['/xyz/.;foo=bar/abc', '/xyz/abc'],
    ['/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query', '/remain;blah-bluh?query'],
  ]);
});

test('BASE: malformed paths are rejected with 400', () => {
  check('BASE', [
    ['/xyz/.%00../abc', 400],
    ['/xyz/%00.%00./abc', 400],
    ['/xyz/AAAAA%%0000/abc', 400],
    ['/a/\u0000b', 400],
  ]);
});

test('BASE: escapes Chromium decodes, keeps or adds; dots that are not segments stay', () => {
  check('BASE', [
    ['/%41%7e%2d%5F', '/A~-_'], // unreserved characters are decoded
    ['/a%%b', '/a%%b'], // an invalid escape passes through
    ['/a%2', '/a%2'],
    ['/a b"<>`{|}^', '/a%20b%22%3C%3E%60%7B%7C%7D%5E'],
    ['/caf\u00e9', '/caf%E9'], // latin1 request bytes
    ['/\u20ac', '/%E2%82%AC'], // a decoded code point is re-encoded as UTF-8
    ['/.well-known/x', '/.well-known/x'],
    ['/a/...', '/a/...'],
    ['/a/..b/c', '/a/..b/c'],
    ['/index.html', '/index.html'],
    ['/a/.', '/a/'],
    ['/a/b/..', '/a/'],
    ['', '/'],
    ['*', '*'],
  ]);
});

test('the query is kept apart and untouched; the fragment is dropped (CVE-2021-39156)', () => {
  assert.deepEqual(normalizePath('/a/../b?x=/../y//z#frag', 'BASE'), { path: '/b', query: '?x=/../y//z' });
  assert.deepEqual(normalizePath('/user/profile#section1', 'BASE'), { path: '/user/profile', query: '' });
  assert.deepEqual(normalizePath('/abc?#frag', 'BASE'), { path: '/abc', query: '?' });
  assert.deepEqual(normalizePath('/abc#frag?x=1', 'NONE'), { path: '/abc', query: '' });
  assert.deepEqual(normalizePath('/a?b?c', 'NONE'), { path: '/a', query: '?b?c' });
});

test('NONE forwards the path exactly as received', () => {
  check('NONE', [
    ['/a/../b', '/a/../b'],
    ['//a//b', '//a//b'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a/%00', '/a/%00'],
  ]);
});

test('MERGE_SLASHES: normalize, then merge; leading/trailing slash kept; query ignored', () => {
  check('MERGE_SLASHES', [
    ['//a//b/c//', '/a/b/c/'],
    ['/a//b/c/', '/a/b/c/'],
    ['/a', '/a'],
    ['//a/b/c', '/a/b/c'],
    ['/a///b/c', '/a/b/c'],
    ['/a//b?a=///c', '/a/b?a=///c'],
    ['/a//b?', '/a/b?'],
    ['//a/?b', '/a/?b'],
    ['//admin', '/admin'], // CVE-2021-31920
    ['/a//..//b', '/a/b'],
    ['/a/%2F/b', '/a/%2F/b'],
  ]);
  assert.equal(mergeSlashes('a//b/c'), 'a/b/c');
  assert.equal(mergeSlashes(''), '');
});

test('DECODE_AND_MERGE_SLASHES: decode %2F %5C first, then normalize and merge', () => {
  check('DECODE_AND_MERGE_SLASHES', [
    ['/a%2fb', '/a/b'],
    ['/a%2Fb%5cc%5Cd', '/a/b/c/d'],
    ['/admin%2F', '/admin/'],
    ['/x/%2E%2e/z%2f%2Fabc%5C../def', '/z/def'],
    ['/%2Fadmin', '/admin'],
    ['/a%2f..%2fb', '/b'],
    ['/a?q=%2F', '/a?q=%2F'],
  ]);
  assert.equal(unescapeSlashes('%%2fa/'), '%/a/');
  assert.equal(unescapeSlashes('%2%2fa/'), '%2/a/');
  assert.equal(unescapeSlashes('%2b'), '%2b');
});

test('any input survives every mode', () => {
  const modes: PathNormalization[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];
  const weird = ['%', '%%', '.', '/..', '/%2e%2', '\\\\', '/\ud800', '?', '#', '/a/./../..\\..%2f%5c', '/'.repeat(1000)];
  for (const mode of modes) {
    for (const raw of weird) {
      const got = normalizePath(raw, mode);
      if (!('reject' in got)) assert.equal(typeof got.path, 'string');
    }
  }
});
