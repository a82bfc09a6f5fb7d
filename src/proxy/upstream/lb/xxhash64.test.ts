import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxHash64 } from './xxhash64.js';

test('matches Envoy HashUtil::xxHash64 (test/common/common/hash_test.cc)', () => {
  assert.equal(xxHash64('foo'), 3728699739546630719n);
  assert.equal(xxHash64('bar'), 5234164152756840025n);
  assert.equal(xxHash64('foo\nbar'), 8917841378505826757n);
  assert.equal(xxHash64('lyft'), 4400747396090729504n);
  assert.equal(xxHash64(''), 17241709254077376921n);
});

test('matches the reference XXH64 on inputs that use every lane path', () => {
  // Published XXH64 values (python-xxhash README); the second input covers the 32-byte stripes.
  assert.equal(xxHash64('abc'), 0x44bc2cf5ad770999n);
  assert.equal(xxHash64('Nobody inspects the spammish repetition'), 0xfbcea83c8a378bf1n);
  const long = 'x'.repeat(100);
  assert.equal(xxHash64(long), xxHash64(Buffer.from(long)));
  assert.notEqual(xxHash64('abc', 1n), xxHash64('abc'));
});
