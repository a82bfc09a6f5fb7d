import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HeaderOperations } from '../../proxy-config/index.js';
import { applyHeaderOperations, applyRouteHeaderOperations, type HeaderMap } from './headers.js';

test('set overwrites, add appends, remove deletes; names are case-insensitive', () => {
  const cases: [string, HeaderMap, HeaderOperations | undefined, HeaderMap][] = [
    ['nothing', { a: '1' }, undefined, { a: '1' }],
    ['set adds', {}, { set: { 'x-a': '1' } }, { 'x-a': '1' }],
    ['set overwrites any spelling', { 'X-A': '0', 'x-a': ['1', '2'] }, { set: { 'x-a': '3' } }, { 'x-a': '3' }],
    ['add creates', {}, { add: { 'x-a': '1' } }, { 'x-a': '1' }],
    ['add appends a value', { 'x-a': '1' }, { add: { 'X-A': '2' } }, { 'x-a': ['1', '2'] }],
    ['add appends to a list', { 'x-a': ['1', '2'] }, { add: { 'x-a': '3' } }, { 'x-a': ['1', '2', '3'] }],
    ['remove', { 'X-Debug': '1', keep: 'y' }, { remove: ['x-debug'] }, { keep: 'y' }],
    ['remove first, then set, then add', { 'x-a': 'old' }, { remove: ['x-a'], set: { 'x-a': 'set' }, add: { 'x-a': 'add' } }, { 'x-a': ['set', 'add'] }],
    ['empty values are not added', { 'x-a': '1' }, { set: { 'x-a': '' }, add: { 'x-b': '' } }, { 'x-a': '1' }],
    ['pseudo-headers and host are not modifiable', { host: 'h' }, { set: { ':authority': 'x', host: 'y' }, remove: ['host', ':path'] }, { host: 'h' }],
  ];
  for (const [name, before, ops, after] of cases) {
    const headers = structuredClone(before);
    applyHeaderOperations(headers, ops);
    assert.deepEqual(headers, after, name);
  }
});

test('route and destination operations: one destination is one list, weighted ones go first', () => {
  const routeOps: HeaderOperations = { set: { 'x-who': 'route' }, add: { 'x-trail': 'route' }, remove: ['x-secret'] };
  const destOps: HeaderOperations = { set: { 'x-who': 'dest' }, add: { 'x-trail': 'dest' }, remove: ['x-trail'] };
  const single: HeaderMap = { 'x-secret': 's', 'x-trail': 'client' };
  applyRouteHeaderOperations(single, routeOps, destOps, 1);
  assert.deepEqual(single, { 'x-who': 'dest', 'x-trail': ['route', 'dest'] });

  const weighted: HeaderMap = { 'x-secret': 's', 'x-trail': 'client' };
  applyRouteHeaderOperations(weighted, routeOps, destOps, 2);
  assert.deepEqual(weighted, { 'x-who': 'route', 'x-trail': ['dest', 'route'] });

  const onlyRoute: HeaderMap = {};
  applyRouteHeaderOperations(onlyRoute, routeOps, undefined, 1);
  assert.deepEqual(onlyRoute, { 'x-who': 'route', 'x-trail': 'route' });
  const onlyDest: HeaderMap = {};
  applyRouteHeaderOperations(onlyDest, undefined, destOps, 3);
  assert.deepEqual(onlyDest, { 'x-who': 'dest', 'x-trail': 'dest' });
});

test('garbage operations are ignored', () => {
  const headers: HeaderMap = { a: '1' };
  applyHeaderOperations(headers, { set: { b: 7 }, add: null, remove: [null, 'A'] } as unknown as HeaderOperations);
  assert.deepEqual(headers, {});
});
