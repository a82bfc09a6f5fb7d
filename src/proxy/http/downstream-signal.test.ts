import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownstreamSignal } from './downstream-signal.js';

test('behaves as an AbortSignal for the parts the request path uses', () => {
  const s = new DownstreamSignal();
  const calls: string[] = [];
  const a = () => calls.push('a');
  const b = { handleEvent: (e: Event) => calls.push(`b:${e.type}`) };
  s.addEventListener('abort', a);
  s.addEventListener('abort', b);
  s.addEventListener('abort', () => calls.push('removed'));
  s.removeEventListener('abort', a);
  s.onabort = () => calls.push('onabort');
  assert.equal(s.aborted, false);
  s.throwIfAborted();
  const reason = new Error('gone');
  s.abort(reason);
  s.abort(new Error('twice'));
  assert.deepEqual(calls, ['onabort', 'b:abort', 'removed']);
  assert.equal(s.reason, reason);
  assert.throws(() => s.throwIfAborted(), /gone/);
  s.addEventListener('abort', a); // after the fact: never fires, as with a native signal
  assert.deepEqual(calls, ['onabort', 'b:abort', 'removed']);
});
