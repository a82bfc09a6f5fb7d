/**
 * Fuzzing the HTTP/1.1 client with what a broken or hostile upstream might send: random bytes,
 * and valid responses with bytes flipped, cut or duplicated. Every request must end as a
 * response (whose body then ends or errors) or as an UpstreamError with an upstream flag (UPE,
 * UC); nothing may throw out of the client, hang, or leave a connection counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Upstreams, UpstreamError } from '../index.js';
import { assignment, cluster, endpoint, readAll, seededRandom } from '../fixtures.js';
import { startRawUpstream } from './raw-upstream.js';

const VALID = [
  'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-trailer: 1\r\n\r\n',
  'HTTP/1.1 103 Early\r\nlink: x\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n',
  'HTTP/1.0 500 Oops\r\n\r\nbody until close',
];

function mutate(random: () => number): Buffer {
  const base = Buffer.from(VALID[Math.floor(random() * VALID.length)] ?? '', 'latin1');
  const kind = Math.floor(random() * 4);
  if (kind === 0) return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
  if (kind === 1) {
    const out = Buffer.from(base);
    for (let n = 1 + Math.floor(random() * 4); n > 0; n--) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  }
  if (kind === 2) return base.subarray(0, Math.floor(random() * base.length));
  return Buffer.concat([base, base.subarray(0, Math.floor(random() * base.length))]);
}

test('random and mutated upstream responses end as a response or an upstream error, never a crash', async (t) => {
  const random = seededRandom(4);
  const answers: Buffer[] = [];
  const up = await startRawUpstream((socket, _req, i) => {
    const answer = answers[i] ?? Buffer.alloc(0);
    // Half the time the upstream also closes, so responses framed by the close can end.
    if (i % 2 === 0) socket.end(answer);
    else socket.write(answer, () => setTimeout(() => socket.destroy(), 5));
  });
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c', { connectTimeoutMs: 1000 })], [assignment('c', [endpoint(up.port)])]);
  const outcomes = new Map<string, number>();
  const count = (k: string): void => void outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  for (let i = 0; i < 300; i++) {
    answers[i] = mutate(random);
    try {
      const res = await upstreams.send('c', { method: 'GET', path: `/${i}`, headers: { host: 'svc' }, body: null });
      try {
        await readAll(res.body);
        count(`response ${res.status}`);
      } catch (err) {
        assert.ok(err instanceof Error, String(err));
        count('body error');
      }
    } catch (err) {
      assert.ok(err instanceof UpstreamError, `request ${i}: ${String(err)}`);
      assert.ok(['UPE', 'UC'].includes(err.flag), `request ${i}: flag ${err.flag} for ${JSON.stringify(answers[i]?.toString('latin1'))}`);
      count(err.flag);
    }
  }
  // Every kind of ending happened, so the fuzzing reached past the status line.
  for (const k of ['UPE', 'UC', 'response 200']) assert.ok((outcomes.get(k) ?? 0) > 0, `${k}: ${JSON.stringify([...outcomes])}`);
  while ((upstreams.snapshot()[0]?.connections ?? 0) > 0) await sleep(5);
  assert.equal(upstreams.snapshot()[0]?.activeRequests ?? 0, 0);
});
