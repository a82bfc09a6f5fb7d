/**
 * `weft graph`: the live service graph the control plane computes from every proxy's metrics
 * (`/debug/graph` on its monitoring port), as one line per edge, or as the JSON itself.
 */
import type { Command } from 'commander';
import { DEFAULT_MONITORING_URL, getJson, monitoringUrl } from '../format.js';
import { defaultMonitoringUrls } from './runtime-common.js';
import type { ServiceGraph } from '../../telemetry/graph/index.js';

interface GraphFlags {
  namespace?: string;
  window: string;
  controlPlane?: string;
  output: string;
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('the live service graph from telemetry: who calls whom, request and error rates, latency, TCP traffic, mTLS')
    .option('-n, --namespace <ns>', 'only traffic to, from or through this namespace')
    .option('--window <duration>', 'rates over this much recent time (up to 10m)', '60s')
    .option('--control-plane <url>', `the control plane's monitoring address (default: the local runtime's control plane pod, else ${DEFAULT_MONITORING_URL})`)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (flags: GraphFlags) => {
      process.exitCode = await runGraph(flags);
    });
}

async function runGraph(flags: GraphFlags): Promise<number> {
  if (flags.output !== 'text' && flags.output !== 'json') {
    process.stderr.write(`error: --output: expected text or json, got ${JSON.stringify(flags.output)}\n`);
    return 2;
  }
  const query = new URLSearchParams({ window: flags.window, ...(flags.namespace ? { namespace: flags.namespace } : {}) });
  const base = flags.controlPlane ?? (await defaultMonitoringUrls(DEFAULT_MONITORING_URL))[0] ?? DEFAULT_MONITORING_URL;
  const url = `${monitoringUrl(base)}/debug/graph?${query.toString()}`;
  let got: { status: number; body: ServiceGraph | { error?: string } };
  try {
    got = await getJson<ServiceGraph | { error?: string }>(url);
  } catch (err) {
    process.stderr.write(`error: cannot reach the control plane at ${url}: ${(err as Error).message}; is \`weft control-plane\` running (see --control-plane)?\n`);
    return 1;
  }
  if (got.status !== 200 || !('edges' in got.body)) {
    const message = 'error' in got.body && got.body.error ? got.body.error : `HTTP ${got.status}`;
    process.stderr.write(`error: ${message}\n`);
    return got.status === 400 ? 2 : 1;
  }
  const graph = got.body;
  if (flags.output === 'json') {
    process.stdout.write(`${JSON.stringify(graph, null, 2)}\n`);
    return 0;
  }
  const { renderGraph } = await import('../../telemetry/graph/render.js');
  process.stdout.write(renderGraph(graph));
  for (const f of graph.proxies.failing) process.stderr.write(`warning: proxy ${f.id} (${f.address}) not scraped: ${f.error}\n`);
  return 0;
}
