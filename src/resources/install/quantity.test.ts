import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, quantityProblem, QuantityError } from './quantity.js';

test('memory quantities parse to bytes', () => {
  assert.equal(parseQuantity('100Mi'), 100 * 1024 * 1024);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('128974848'), 128974848);
  assert.equal(parseQuantity('129M'), 129e6);
  assert.equal(parseQuantity('1e3'), 1000);
});

test('cpu quantities parse to cores', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity(2), 2);
  assert.equal(parseQuantity('0.1'), 0.1);
  assert.equal(parseQuantity('2000m'), 2);
});

test('malformed quantities throw QuantityError naming the value', () => {
  assert.throws(() => parseQuantity('100MB'), (err: unknown) => err instanceof QuantityError && /"100MB"/.test(err.message));
  assert.throws(() => parseQuantity('lots'), QuantityError);
  assert.throws(() => parseQuantity(''), QuantityError);
  assert.match(quantityProblem('1 Gi') ?? '', /invalid quantity "1 Gi"/);
  assert.equal(quantityProblem('1Gi'), undefined);
});
