import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from './files.js';
import type { SourceEvent } from './source.js';

const vs = (name: string, subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http:
  - route:
    - destination: {host: reviews.default.svc.cluster.local, subset: ${subset}}
`;

const BAD_WEIGHT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
      weight: -1
`;

interface Setup {
  dir: string;
  source: FileSource;
  events: SourceEvent[];
  /** Resolves with the next event the source reports. */
  next: () => Promise<SourceEvent>;
  /** Starts the source, recording its events; tests call it once their files exist. */
  start: () => Promise<void>;
}

function setup(t: { after: (fn: () => void) => void }, debounceMs = 30): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'weft-sources-'));
  const source = new FileSource({ paths: [dir], debounceMs });
  const events: SourceEvent[] = [];
  const waiters: ((e: SourceEvent) => void)[] = [];
  t.after(() => {
    source.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const onEvent = (e: SourceEvent): void => {
    events.push(e);
    waiters.shift()?.(e);
  };
  const next = () => new Promise<SourceEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no source event within 3 s')), 3_000);
    waiters.push((e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
  return { dir, source, events, next, start: () => source.start(onEvent) };
}

const names = (e: SourceEvent | undefined) => (e?.type === 'accepted' ? e.resources.map((r) => `${r.kind}/${r.metadata.name}`) : e?.errors.map((d) => d.code));

test('the initial set is reported before start resolves, and a changed file is reloaded', async (t) => {
  const { dir, source, events, next, start } = setup(t);
  writeFileSync(join(dir, 'vs.yaml'), vs('reviews', 'v1'));
  await start();
  assert.deepEqual(names(events[0]), ['VirtualService/reviews']);
  const changed = next();
  writeFileSync(join(dir, 'vs.yaml'), vs('reviews', 'v2'));
  const e = await changed;
  assert.equal(e.type, 'accepted');
  assert.match(JSON.stringify(source.current()), /"subset":"v2"/);
});

test('a burst of writes is one reload (debounced), and rewriting the same text reports nothing', async (t) => {
  const { dir, source, events, start } = setup(t, 80);
  writeFileSync(join(dir, 'a.yaml'), vs('a', 'v1'));
  await start();
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `b${i}.yaml`), vs(`b${i}`, 'v1'));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(events.length, 2, JSON.stringify(events.map(names)));
  assert.equal(source.current().length, 6);
  writeFileSync(join(dir, 'a.yaml'), vs('a', 'v1'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(events.length, 2);
});

test('an invalid file rejects the whole change with file, line and field path, and the last good set stays', async (t) => {
  const { dir, source, next, start } = setup(t);
  writeFileSync(join(dir, 'good.yaml'), vs('reviews', 'v1'));
  await start();
  const before = source.current();
  const rejected = next();
  // One good change and one bad one in the same burst: neither is taken.
  writeFileSync(join(dir, 'good.yaml'), vs('reviews', 'v2'));
  writeFileSync(join(dir, 'bad.yaml'), BAD_WEIGHT);
  const e = await rejected;
  assert.equal(e.type, 'rejected');
  if (e.type !== 'rejected') return;
  assert.equal(e.errors.length, 1);
  assert.deepEqual({ ...e.errors[0]?.location, file: e.errors[0]?.location?.file.endsWith('bad.yaml') }, { file: true, line: 9, column: 15, path: 'spec.http[0].route[0].weight' });
  assert.equal(source.current(), before);
  const fixed = next();
  rmSync(join(dir, 'bad.yaml'));
  const ok = await fixed;
  assert.equal(ok.type, 'accepted');
  assert.match(JSON.stringify(source.current()), /"subset":"v2"/);
});

test('a duplicate resource across files is an error (apply semantics), not last-wins', async (t) => {
  const { dir, source, events, start } = setup(t);
  writeFileSync(join(dir, 'a.yaml'), vs('reviews', 'v1'));
  writeFileSync(join(dir, 'b.yaml'), vs('reviews', 'v2'));
  await start();
  assert.deepEqual(names(events[0]), ['WFT0003']);
  assert.deepEqual(source.current(), []);
});

test('files in a subdirectory created after start are watched too', async (t) => {
  const { dir, next, start } = setup(t);
  writeFileSync(join(dir, 'a.yaml'), vs('a', 'v1'));
  await start();
  mkdirSync(join(dir, 'team'));
  // The new directory changes no file (so nothing is reported), but the reload it triggers watches it.
  await new Promise((r) => setTimeout(r, 200));
  const added = next();
  writeFileSync(join(dir, 'team', 'b.yaml'), vs('b', 'v1'));
  assert.deepEqual(names(await added), ['VirtualService/a', 'VirtualService/b']);
});

test('a missing path is a rejected set, not an empty one', async (t) => {
  const { dir } = setup(t);
  const source = new FileSource({ paths: [join(dir, 'nope')], watch: false });
  let event: SourceEvent | undefined;
  await source.start((e) => (event = e));
  source.stop();
  assert.equal(event?.type, 'rejected');
  assert.match(JSON.stringify(event), /cannot read the configuration.*ENOENT/);
});
