/**
 * Trace context on the wire: W3C and both B3 forms read, the child's ids written back in every
 * form, and the caller's sampling decision honoured over the mesh's percentage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childContext, extractContext, injectContext } from './context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('W3C traceparent and tracestate are read; bad ones are ignored', () => {
  assert.deepEqual(extractContext({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'congo=t61rcWkgMzE' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, tracestate: 'congo=t61rcWkgMzE', b3Single: false });
  assert.equal(extractContext({ traceparent: `00-${TRACE}-${SPAN}-00` })?.sampled, false);
  assert.equal(extractContext({ traceparent: `01-${TRACE}-${SPAN}-03-future` })?.sampled, true, 'a later version is read by its prefix');
  for (const bad of [`ff-${TRACE}-${SPAN}-01`, `00-${'0'.repeat(32)}-${SPAN}-01`, `00-${TRACE}-${'0'.repeat(16)}-01`, `00-${TRACE.toUpperCase()}x-${SPAN}-01`, `00-${TRACE}-${SPAN}-01-extra`, 'garbage']) {
    assert.equal(extractContext({ traceparent: bad }), undefined, bad);
  }
});

test('B3 multi-header: ids, 64-bit trace ids, sampled forms, debug flag, decision alone', () => {
  assert.deepEqual(extractContext({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': '05e3ac9a4f6e3b90', 'x-b3-sampled': '1' }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, b3Single: false });
  assert.deepEqual(extractContext({ 'x-b3-traceid': 'A3CE929D0E0E4736', 'x-b3-spanid': SPAN, 'x-b3-sampled': 'false' }), { traceId: 'a3ce929d0e0e4736', spanId: SPAN, sampled: false, debug: false, b3Single: false });
  assert.equal(extractContext({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN })?.sampled, undefined, 'no decision: the receiver decides');
  assert.equal(extractContext({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0', 'x-b3-flags': '1' })?.sampled, true, 'debug wins');
  assert.deepEqual(extractContext({ 'x-b3-sampled': '0' }), { sampled: false, debug: false, b3Single: false });
  assert.equal(extractContext({ 'x-b3-traceid': 'xyz', 'x-b3-spanid': SPAN }), undefined);
});

test('B3 single header, and B3 read before traceparent as Envoy\'s Zipkin tracer does', () => {
  assert.deepEqual(extractContext({ b3: `${TRACE}-${SPAN}-1-05e3ac9a4f6e3b90` }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: false, b3Single: true });
  assert.deepEqual(extractContext({ b3: `${TRACE}-${SPAN}` }), { traceId: TRACE, spanId: SPAN, debug: false, b3Single: true });
  assert.deepEqual(extractContext({ b3: `${TRACE}-${SPAN}-d` }), { traceId: TRACE, spanId: SPAN, sampled: true, debug: true, b3Single: true });
  assert.deepEqual(extractContext({ b3: '0' }), { sampled: false, debug: false, b3Single: true });
  const both = extractContext({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-00` });
  assert.equal(both?.traceId, TRACE);
});

test('the child span: same trace, new id, the caller\'s span as parent, the caller\'s decision', () => {
  const never = () => 0.999;
  const always = () => 0;
  const child = childContext(extractContext({ traceparent: `00-${TRACE}-${SPAN}-01` }), 0, never);
  assert.equal(child.traceId, TRACE);
  assert.equal(child.parentId, SPAN);
  assert.match(child.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(child.spanId, SPAN);
  assert.equal(child.sampled, true, 'sampled upstream although the mesh samples 0%');
  assert.equal(childContext(extractContext({ 'x-b3-sampled': '0' }), 100, always).sampled, false, 'an upstream "no" wins over 100%');
  const root = childContext(undefined, 1, () => 0.005);
  assert.equal(root.sampled, true, '0.5 < 1%');
  assert.equal(root.parentId, undefined);
  assert.match(root.traceId, /^[0-9a-f]{32}$/);
  assert.equal(childContext(undefined, 1, () => 0.01).sampled, false, '1.0 is not < 1%');
  assert.equal(childContext(extractContext({ b3: `${TRACE}-${SPAN}` }), 100, always).sampled, true, 'ids without a decision: the mesh decides');
});

test('written upstream: traceparent and B3 multi-header always, b3 single when the caller used it', () => {
  const headers: Record<string, string | string[] | undefined> = { tracestate: 'congo=t61rcWkgMzE', 'x-b3-flags': '1' };
  injectContext(headers, { traceId: 'a3ce929d0e0e4736', spanId: '1111111111111111', parentId: SPAN, sampled: false, debug: false, b3Single: false });
  assert.deepEqual(headers, {
    tracestate: 'congo=t61rcWkgMzE',
    traceparent: '00-0000000000000000a3ce929d0e0e4736-1111111111111111-00',
    'x-b3-traceid': 'a3ce929d0e0e4736',
    'x-b3-spanid': '1111111111111111',
    'x-b3-parentspanid': SPAN,
    'x-b3-sampled': '0',
  });
  const single: Record<string, string | string[] | undefined> = { 'x-b3-parentspanid': 'stale' };
  injectContext(single, { traceId: TRACE, spanId: '2222222222222222', parentId: undefined, sampled: true, debug: true, b3Single: true });
  assert.equal(single.b3, `${TRACE}-2222222222222222-d`);
  assert.equal(single['x-b3-flags'], '1');
  assert.equal(single['x-b3-sampled'], undefined, 'debug implies sampled');
  assert.equal(single['x-b3-parentspanid'], undefined, 'a root has no parent');
  assert.equal(single.traceparent, `00-${TRACE}-2222222222222222-01`);
  // What was written reads back as the same context.
  const back = extractContext(single);
  assert.deepEqual([back?.traceId, back?.spanId, back?.sampled], [TRACE, '2222222222222222', true]);
});
