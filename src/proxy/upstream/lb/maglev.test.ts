import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMaglevTable, effectiveTableSize, maglev } from './maglev.js';
import { xxHash64 } from './xxhash64.js';
import { seededRandom } from '../fixtures.js';

const host = (key: string, weight = 1) => ({ key, weight, activeRequests: 0 });
const hosts3 = [host('10.0.0.1:80'), host('10.0.0.2:80'), host('10.0.0.3:80')];
const keys = Array.from({ length: 3000 }, (_, i) => xxHash64(`session-${i}`));

test('the table is split between hosts in proportion to weight', () => {
  const table = buildMaglevTable([host('a:1', 1), host('b:1', 3)], 65537);
  let a = 0;
  for (const slot of table.slots) if (table.hosts[slot]?.key === 'a:1') a++;
  assert.ok(Math.abs(a / 65537 - 0.25) < 0.01, `a owns ${a / 65537}`);
});

test('equal hosts own equal table shares (within 1 slot)', () => {
  const table = buildMaglevTable(hosts3, 65537);
  const counts = [0, 0, 0];
  for (const slot of table.slots) counts[slot] = (counts[slot] ?? 0) + 1;
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, String(counts));
});

test('non-prime table sizes fall back to 65537 instead of failing', () => {
  assert.equal(effectiveTableSize(1000), 65537);
  assert.equal(effectiveTableSize(251), 251);
});

test('sticky per key, and adding a host moves few keys besides those it takes', () => {
  const before = maglev(hosts3, seededRandom(1));
  const after = maglev([...hosts3, host('10.0.0.4:80')], seededRandom(1));
  let moved = 0;
  let movedElsewhere = 0;
  for (const h of keys) {
    assert.equal(before.pick({ hash: h, attempt: 0 }), before.pick({ hash: h, attempt: 0 }));
    const a = before.pick({ hash: h, attempt: 0 })?.key;
    const b = after.pick({ hash: h, attempt: 0 })?.key;
    if (a !== b) moved++;
    if (a !== b && b !== '10.0.0.4:80') movedElsewhere++;
  }
  assert.ok(moved / keys.length > 0.18 && moved / keys.length < 0.33, `moved ${moved / keys.length}`);
  // Maglev trades a little disruption for balance: the paper reports a few percent.
  assert.ok(movedElsewhere / keys.length < 0.06, `moved elsewhere ${movedElsewhere / keys.length}`);
});
