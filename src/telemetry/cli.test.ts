/**
 * `weft control-plane` runs the trace store beside istiod's ports: `--zipkin-port` and
 * `--otlp-port` (0 here), both reported in the ready line, both ingesting, queries on Zipkin's;
 * `--zipkin-port none` runs none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

async function controlPlane(t: { after: (fn: () => void | Promise<void>) => void }, extra: string[]): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-traces-'));
  mkdirSync(join(dir, 'config'));
  const child = spawn(process.execPath, [MAIN, 'control-plane', '--config', join(dir, 'config'), '--state-dir', join(dir, 'state'), '--port', '0', '--monitoring-port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /weft control-plane ready (\{.*\})\n/.exec(out);
      if (m?.[1]) resolve((JSON.parse(m[1]) as { ports: Record<string, number> }).ports);
    });
    child.once('exit', (code) => reject(new Error(`control plane exited ${String(code)}: ${err}`)));
  });
}

test('the control plane serves the trace store on --zipkin-port and --otlp-port', async (t) => {
  const ports = await controlPlane(t, ['--zipkin-port', '0', '--otlp-port', '0']);
  assert.ok(ports.zipkin && ports.otlp && ports.zipkin !== ports.otlp, JSON.stringify(ports));
  const traceId = '5af7183fb1d4cf5f';
  const zipkin = await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ traceId, id: '6b221d5bc9e6496c', kind: 'SERVER', name: 'get /', timestamp: Date.now() * 1000, duration: 1500, localEndpoint: { serviceName: 'frontend.default' } }]),
  });
  assert.equal(zipkin.status, 202);
  const otlp = await fetch(`http://127.0.0.1:${ports.otlp}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'backend.default' } }] }, scopeSpans: [{ spans: [{ traceId: traceId.padStart(32, '0'), spanId: '0000000000000002', parentSpanId: '6b221d5bc9e6496c', name: 'query', kind: 3 }] }] }] }),
  });
  assert.equal(otlp.status, 200);
  assert.deepEqual(await (await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/services`)).json(), ['backend.default', 'frontend.default']);
  const trace = (await (await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/trace/${traceId}`)).json()) as { id: string }[];
  assert.deepEqual(trace.map((s) => s.id).sort(), ['0000000000000002', '6b221d5bc9e6496c'], 'a 128-bit id with zero high bits is the 64-bit id, as in Zipkin');
});

test('--zipkin-port none runs no trace store', async (t) => {
  const ports = await controlPlane(t, ['--zipkin-port', 'none']);
  assert.equal(ports.zipkin, undefined);
  assert.equal(ports.otlp, undefined);
});
