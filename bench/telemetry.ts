/**
 * The cost of telemetry on the request path: the proxy bench's gateway (one `Proxy`, ingress
 * gateway role, plaintext, to the bench upstream) with telemetry on (Istio's request metrics;
 * the bench config sets no access log file and no tracing provider) and off (`telemetry: false`), measured with the
 * proxy bench's wrk runs: req/s at saturation, the proxy's CPU, req/s per proxy core, and the ratio.
 *
 * The proxy runs in a child process (this file with `--serve on|off`) so its CPU is measured apart
 * from wrk's and the upstream's, as the proxy bench measures every row.
 */
import { fileURLToPath } from 'node:url';
import { startProxy } from '../src/proxy/test-kit.js';
import { getOnce, measureTarget, type ProxyRow, type Target } from './proxy/measure.js';
import { findTool, ProcessGroup, waitForOutput } from './proxy/processes.js';
import { startNodeScript } from './proxy/targets.js';
import { gatewayConfig, GATEWAY_PORT } from './proxy/weft-config.js';

const SELF = fileURLToPath(import.meta.url);
const READY = /TELEMETRY BENCH PROXY (\d+)/;

function gatewayTarget(telemetry: boolean): Target {
  return {
    name: `gateway, telemetry ${telemetry ? 'on' : 'off'}`,
    path: 'wrk -> Proxy (ingress-gateway role) -> upstream',
    hops: 1,
    start: async (group, upstreamPort) => {
      const child = group.start(`gateway-telemetry-${telemetry ? 'on' : 'off'}`, process.execPath, [SELF, '--serve', telemetry ? 'on' : 'off', String(upstreamPort)]);
      const port = Number(await waitForOutput(child, READY));
      return { url: `http://127.0.0.1:${port}/`, proxies: [child] };
    },
  };
}

export async function benchTelemetry(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  const wrk = findTool('wrk');
  if (!wrk) return 'skipped: wrk not installed (apt-get install -y wrk)';
  const group = new ProcessGroup();
  const rows: ProxyRow[] = [];
  try {
    const upstream = await startNodeScript(group, 'upstream', 'upstream.js');
    const expected = (await getOnce(`http://127.0.0.1:${upstream.port}/`)).body;
    // Alternated twice: on a shared machine, load from elsewhere then weighs on both alike.
    for (const telemetry of [false, true, false, true]) {
      const target = gatewayTarget(telemetry);
      log(`telemetry bench: ${target.name}`);
      rows.push(await measureTarget(group, { wrk, node: process.execPath }, target, upstream.child, upstream.port, expected));
    }
  } finally {
    await group.stopAll();
  }
  const lines = ['| proxy | req/s at saturation | proxy CPU (cores) | req/s per proxy core | p50 / p99 at 1000 req/s (ms) |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    const s = r.saturation;
    if (r.status !== 'ok' || !s) {
      lines.push(`| ${r.name} | ${r.status}: ${r.note ?? ''} | | | |`);
      continue;
    }
    const fixed = r.fixedRate ? `${r.fixedRate.latency.p50Ms.toFixed(2)} / ${r.fixedRate.latency.p99Ms.toFixed(2)}` : '-';
    lines.push(`| ${r.name} | ${s.requestsPerSec.toFixed(0)} | ${s.proxyCpuCores.toFixed(2)} | ${(s.requestsPerProxyCore ?? 0).toFixed(0)} | ${fixed} |`);
  }
  // Means over the runs of each; per proxy core is the steadier figure when other work shares the cores.
  const mean = (on: boolean, f: (r: ProxyRow) => number | undefined) => {
    const values = rows.filter((r) => r.status === 'ok' && r.name.endsWith(on ? ' on' : ' off')).map((r) => f(r) ?? 0);
    return values.length > 0 && values.every((v) => v > 0) ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  };
  const rps = (on: boolean) => mean(on, (r) => r.saturation?.requestsPerSec);
  const perCore = (on: boolean) => mean(on, (r) => r.saturation?.requestsPerProxyCore);
  if (perCore(false) > 0 && perCore(true) > 0) {
    lines.push('', `telemetry on / off (means of ${rows.length / 2} runs each): ${(rps(true) / rps(false)).toFixed(3)} of the req/s, ${(perCore(true) / perCore(false)).toFixed(3)} of the req/s per proxy core`
      + ` (${((1 / perCore(true) - 1 / perCore(false)) * 1e6).toFixed(1)} µs of proxy CPU per request for telemetry)`);
  }
  return lines.join('\n');
}

/** Child mode: the gateway proxy in this process, until killed. */
async function serve(mode: string, upstreamPort: number): Promise<void> {
  const gw = await startProxy(gatewayConfig(upstreamPort), { proxy: { telemetry: mode === 'on' } });
  process.stdout.write(`TELEMETRY BENCH PROXY ${gw.port(`gateway:${GATEWAY_PORT}`)}\n`);
}

if (process.argv[2] === '--serve') await serve(process.argv[3] ?? 'on', Number(process.argv[4]));
else if (process.argv[1] === SELF) process.stdout.write(`${await benchTelemetry()}\n`);
