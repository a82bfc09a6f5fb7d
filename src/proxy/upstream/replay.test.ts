import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { requestBody } from './replay.js';
import { readAll } from './fixtures.js';

test('each attempt gets the whole body: what was kept, then what still arrives', async () => {
  const source = new PassThrough();
  const body = requestBody(source, true);
  const first = body.open() as Readable;
  source.write('ab');
  const got: string[] = [];
  first.on('data', (c: Buffer) => got.push(c.toString()));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['ab']);
  // The first attempt fails midway; the second starts over and then sees live data too.
  const second = body.open() as Readable;
  assert.equal(first.destroyed, true);
  source.end('cd');
  assert.equal(await readAll(second), 'abcd');
  assert.equal(body.replayable, true);
  assert.equal(await readAll(body.open() as Readable), 'abcd');
  await body.complete;
});

test('past the limit the body still streams once, but cannot be replayed', async () => {
  const body = requestBody(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), true, 1000);
  assert.equal((await readAll(body.open() as Readable)).length, 1200);
  assert.equal(body.replayable, false);
  assert.equal(body.open(), undefined);
});

test('buffers and empty bodies replay trivially; without retries a stream is passed through once', async () => {
  const buf = Buffer.from('x');
  const fixed = requestBody(buf, true);
  assert.equal(fixed.open(), buf);
  assert.equal(fixed.open(), buf);
  assert.equal(requestBody(null, true).open(), null);
  const stream = Readable.from(['a']);
  const once = requestBody(stream, false);
  assert.equal(once.open(), stream);
  assert.equal(once.open(), undefined);
});

test('a slow consumer holds the source back (backpressure, nothing read ahead unbounded)', async () => {
  let produced = 0;
  const source = new Readable({
    read() {
      if (produced >= 1000) return this.push(null);
      produced++;
      this.push(Buffer.alloc(1024));
    },
  });
  const body = requestBody(source, true, 10 * 1024 * 1024);
  const consumer = body.open() as Readable;
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(produced < 200, `source produced ${produced} chunks with nobody reading`);
  assert.equal((await readAll(consumer)).length, 1000 * 1024);
});
