import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, QuantityError } from './quantity.js';

test('quantities parse to base units', () => {
  assert.equal(parseQuantity('100m'), 0.1);
  assert.equal(parseQuantity('1'), 1);
  assert.equal(parseQuantity('1.5'), 1.5);
  assert.equal(parseQuantity('128Mi'), 128 * 1024 * 1024);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('2k'), 2000);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('2e3'), 2000);
  assert.equal(parseQuantity('500u'), 0.0005);
  assert.equal(parseQuantity('-1'), -1);
  assert.equal(parseQuantity('.5'), 0.5);
});

test('malformed quantities are rejected with Kubernetes wording', () => {
  for (const bad of ['', 'abc', '1 Gi', '1KB', '1gi', 'Mi', '1.2.3', '1e']) {
    assert.throws(() => parseQuantity(bad), (err: unknown) => err instanceof QuantityError && /quantities must match the regular expression/.test(err.message), bad);
  }
});
