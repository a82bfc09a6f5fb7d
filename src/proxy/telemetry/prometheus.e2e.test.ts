/**
 * A real Prometheus (the Debian package's binary) scrapes both sidecars of the test mesh, and
 * PromQL over its HTTP API returns the series Istio's dashboards query: requests per destination
 * version and code, from each reporter. Skipped, saying so, when `prometheus` is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { send, freePort } from '../test-kit.js';
import { startTestMesh } from './test-mesh.js';

const binary = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0 ? 'prometheus' : undefined;

function query(port: number, promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/api/v1/query?query=${encodeURIComponent(promql)}`, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
          resolve(parsed.status === 'success' ? (parsed.data?.result ?? []) : []);
        } catch {
          resolve([]);
        }
      });
    }).on('error', reject);
  });
}

async function value(port: number, promql: string, want: number): Promise<number | undefined> {
  // Prometheus needs a scrape or two after it starts; poll until the answer is in (or give up).
  let last: number | undefined;
  for (let i = 0; i < 150; i++) {
    const r = await query(port, promql).catch(() => []);
    last = r[0] ? Number(r[0].value[1]) : undefined;
    if (last === want) return last;
    await new Promise((res) => setTimeout(res, 100));
  }
  return last;
}

test('a real Prometheus scrapes both sidecars; PromQL sees requests per version and code from both reporters', { skip: binary ? false : 'prometheus is not installed (apt-get install prometheus)' }, async (t) => {
  const mesh = await startTestMesh();
  t.after(() => mesh.close());
  const port = mesh.client.port('outbound');
  for (let i = 0; i < 4; i++) await send(port, { path: 'http://reviews:9080/reviews/1' });
  await send(port, { path: 'http://reviews:9080/fail' });
  await send(port, { path: 'http://ratings:9080/' });

  const dir = mkdtempSync(join(tmpdir(), 'weft-prometheus-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const webPort = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    'scrape_configs:',
    '  - job_name: envoy-stats',
    '    metrics_path: /stats/prometheus',
    `    static_configs: [{targets: ["127.0.0.1:${mesh.client.port('prometheus')}", "127.0.0.1:${mesh.server.port('prometheus')}"]}]`,
    '',
  ].join('\n'));
  const prom = spawn(binary ?? 'prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'], { stdio: 'ignore' });
  t.after(() => {
    prom.kill('SIGKILL');
  });

  assert.equal(await value(webPort, 'sum(istio_requests_total{reporter="source",destination_version="v2"})', 5), 5);
  assert.equal(await value(webPort, 'sum(istio_requests_total{reporter="destination",destination_version="v2",source_app="productpage",response_code="200"})', 4), 4);
  assert.equal(await value(webPort, 'sum(istio_requests_total{reporter="source",response_flags="UF",response_code="503"})', 1), 1);
  // Istio's dashboards: request rates by source and destination workload (a scrape every second).
  const rows = await query(webPort, 'sum by (source_workload, destination_workload) (istio_requests_total{reporter="destination"})');
  assert.deepEqual(rows.map((r) => [r.metric.source_workload, r.metric.destination_workload, r.value[1]]), [['productpage-v1', 'reviews-v2', '5']]);
  assert.equal(await value(webPort, 'sum(istio_request_duration_milliseconds_count{reporter="destination"})', 5), 5);
});
