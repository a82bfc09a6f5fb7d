import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Upstreams, UpstreamError } from './index.js';
import { assignment, closedPort, cluster, endpoint, readAll, startBlackhole, startEchoServer, startUpstream } from './fixtures.js';

const get = (path = '/', headers: Record<string, string> = { host: 'svc.default' }) => ({ method: 'GET', path, headers, body: null });

test('forwards method, path, headers and body to the endpoint and streams the answer back', async (t) => {
  const up = await startUpstream('reviews', (req, res, rec) => {
    res.setHeader('x-seen-body', rec.body);
    res.end(`hello ${rec.method} ${rec.path}`);
  });
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('outbound|9080||reviews')], [assignment('outbound|9080||reviews', [up.endpoint()])]);

  const res = await upstreams.send('outbound|9080||reviews', {
    method: 'POST',
    path: '/reviews/1?x=1',
    headers: { host: 'reviews:9080', 'x-request-id': 'r1', connection: 'keep-alive', 'content-type': 'text/plain' },
    body: Readable.from([Buffer.from('a'), Buffer.from('bc')]),
  });
  assert.equal(res.status, 200);
  assert.equal(await readAll(res.body), 'hello POST /reviews/1?x=1');
  assert.equal(res.headers['x-seen-body'], 'abc');
  assert.equal(res.attempts, 1);
  assert.equal(res.endpoint.port, up.port);
  assert.deepEqual(res.flags, []);
  const seen = up.requests[0];
  assert.equal(seen?.headers['host'], 'reviews:9080');
  assert.equal(seen?.headers['x-request-id'], 'r1');
});

test('reuses keep-alive connections for sequential requests', async (t) => {
  const ports = new Set<number>();
  const up = await startUpstream('a', (req, res) => {
    ports.add(req.socket.remotePort ?? 0);
    res.end('ok');
  });
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c')], [assignment('c', [up.endpoint()])]);
  for (let i = 0; i < 5; i++) await readAll((await upstreams.send('c', get())).body);
  assert.equal(ports.size, 1);
  assert.equal(upstreams.snapshot()[0]?.connections, 1);
});

test('unknown cluster: NC 503 with an empty body', async () => {
  const upstreams = new Upstreams();
  await assert.rejects(upstreams.send('outbound|80|v9|nope', get()), (err: UpstreamError) => err.flag === 'NC' && err.status === 503 && err.body === '');
  await upstreams.close();
});

test('no endpoints, or none healthy: UH 503 "no healthy upstream"', async (t) => {
  const up = await startUpstream('a');
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('empty'), cluster('sick')], [assignment('sick', [{ ...up.endpoint(), healthy: false }])]);
  for (const name of ['empty', 'sick']) {
    await assert.rejects(upstreams.send(name, get()), (err: UpstreamError) => err.flag === 'UH' && err.status === 503 && err.body === 'no healthy upstream');
  }
  assert.equal(up.requests.length, 0);
  assert.equal(upstreams.snapshot().find((c) => c.name === 'sick')?.counters.noHealthyUpstream, 1);
});

test('connection refused: UF 503 with Envoy\'s body', async (t) => {
  const upstreams = new Upstreams();
  t.after(() => upstreams.close());
  upstreams.apply([cluster('c')], [assignment('c', [endpoint(await closedPort())])]);
  await assert.rejects(upstreams.send('c', get()), (err: UpstreamError) => {
    assert.deepEqual(err.flags, ['UF']);
    assert.equal(err.status, 503);
    assert.equal(err.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
    return true;
  });
});

test('connect timeout: UF once connectTimeoutMs passes', async (t) => {
  const hole = await startBlackhole();
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), hole.close()]));
  upstreams.apply([cluster('c', { connectTimeoutMs: 150 })], [assignment('c', [endpoint(hole.port)])]);
  const started = Date.now();
  await assert.rejects(upstreams.send('c', get()), (err: UpstreamError) => err.flag === 'UF' && err.resetReason === 'connection failure');
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 140 && elapsed < 2000, `took ${elapsed}ms`);
});

test('upstream closes the connection before answering: UC 503', async (t) => {
  const up = await startUpstream('rude', (req) => req.socket.destroy());
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c')], [assignment('c', [up.endpoint()])]);
  await assert.rejects(upstreams.send('c', get()), (err: UpstreamError) => {
    assert.deepEqual(err.flags, ['UC']);
    assert.equal(err.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    return true;
  });
});

test('TCP connect reaches an endpoint and counts the connection until it closes', async (t) => {
  const echo = await startEchoServer('echo:');
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), echo.close()]));
  upstreams.apply([cluster('outbound|3306||mysql', { protocol: 'tcp' })], [assignment('outbound|3306||mysql', [echo.endpoint()])]);
  const { socket, endpoint: ep } = await upstreams.connect('outbound|3306||mysql');
  assert.equal(ep.port, echo.port);
  socket.write('ping');
  const [reply] = (await new Promise((resolve) => socket.once('data', (d) => resolve([d])))) as [Buffer];
  assert.equal(reply.toString(), 'echo:ping');
  assert.equal(upstreams.snapshot()[0]?.connections, 1);
  socket.destroy();
  await new Promise((resolve) => socket.once('close', resolve));
  assert.equal(upstreams.snapshot()[0]?.connections, 0);
});

test('TCP connect: UF to a closed port, UO beyond maxConnections, UH without endpoints', async (t) => {
  const echo = await startEchoServer('');
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), echo.close()]));
  const limited = cluster('one', { protocol: 'tcp', circuitBreakers: { ...cluster('x').circuitBreakers, maxConnections: 1 } });
  upstreams.apply([cluster('closed'), limited, cluster('none')], [assignment('closed', [endpoint(await closedPort())]), assignment('one', [echo.endpoint()])]);
  await assert.rejects(upstreams.connect('closed'), (err: UpstreamError) => err.flag === 'UF');
  await assert.rejects(upstreams.connect('none'), (err: UpstreamError) => err.flag === 'UH');
  const first = await upstreams.connect('one');
  await assert.rejects(upstreams.connect('one'), (err: UpstreamError) => err.flag === 'UO');
  first.socket.destroy();
});

test('PASSTHROUGH sends to the original destination', async (t) => {
  const up = await startUpstream('external');
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('PassthroughCluster', { discovery: 'original-dst', loadBalancer: { policy: 'PASSTHROUGH' } })], []);
  const res = await upstreams.send('PassthroughCluster', get(), { originalDestination: { address: '127.0.0.1', port: up.port } });
  assert.equal(await readAll(res.body), 'external');
  await assert.rejects(upstreams.send('PassthroughCluster', get()), (err: UpstreamError) => err.flag === 'UH');
});

test('survives malformed config and endpoints', async (t) => {
  const up = await startUpstream('a');
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  const broken = { name: 'broken' } as unknown as ReturnType<typeof cluster>;
  const junk = [{ address: '', port: 0 }, { address: '127.0.0.1', port: 70000 }, null] as unknown as ReturnType<typeof endpoint>[];
  upstreams.apply([broken, cluster('ok')], [assignment('broken', [...junk, up.endpoint()]), { cluster: 'ok', endpoints: null } as unknown as ReturnType<typeof assignment>]);
  const res = await upstreams.send('broken', get());
  assert.equal(await readAll(res.body), 'a');
  await assert.rejects(upstreams.send('ok', get()), (err: UpstreamError) => err.flag === 'UH');
});
