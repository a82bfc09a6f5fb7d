import type { Command } from 'commander';
import type { ProxyConfig } from '../../proxy-config/index.js';
import { DEFAULT_MONITORING_URL, collect, getJson, monitoringUrl, table } from '../format.js';
import { defaultMonitoringUrls } from './runtime-common.js';
import { KINDS, jsonFor, tableFor, type Kind } from './proxy-config-tables.js';

/** istioctl's short and singular forms are accepted too (`cluster`, `clusters`, `lis`). */
const ALIASES: Record<string, Kind> = {
  listener: 'listeners', listeners: 'listeners', lis: 'listeners', l: 'listeners',
  route: 'routes', routes: 'routes', r: 'routes',
  cluster: 'clusters', clusters: 'clusters', c: 'clusters',
  endpoint: 'endpoints', endpoints: 'endpoints', ep: 'endpoints', eps: 'endpoints',
  secret: 'secret', secrets: 'secret', s: 'secret',
};

export function registerProxyConfig(program: Command): void {
  program
    .command('proxy-config')
    .description('what one proxy was given by the control plane (istioctl proxy-config)')
    .argument('<kind>', KINDS.join(', '))
    .argument('<proxy-id>', 'the proxy node id, e.g. reviews-v1-0.default (see weft proxy-status)')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--control-plane <url>', `a replica's monitoring address (repeatable; default: the local runtime's control plane pods, else ${DEFAULT_MONITORING_URL})`, collect, [])
    .action(async (kindText: string, proxyId: string, flags: { output: string; controlPlane: string[] }) => {
      process.exitCode = await runProxyConfig(kindText, proxyId, flags.output, flags.controlPlane.length > 0 ? flags.controlPlane : await defaultMonitoringUrls(DEFAULT_MONITORING_URL));
    });
}

async function runProxyConfig(kindText: string, proxyId: string, output: string, replicas: string[]): Promise<number> {
  const kind = ALIASES[kindText.toLowerCase()];
  if (!kind) {
    process.stderr.write(`error: unknown kind ${JSON.stringify(kindText)}; expected one of ${KINDS.join(', ')}\n`);
    return 2;
  }
  // The proxy holds a stream to one replica; ask each until one has it.
  const problems: string[] = [];
  for (const replica of replicas) {
    const url = `${monitoringUrl(replica)}/debug/config_dump?proxyID=${encodeURIComponent(proxyId)}`;
    try {
      const got = await getJson<{ config?: ProxyConfig; error?: string }>(url);
      if (got.status === 200 && got.body.config) return print(kind, got.body.config, output);
      problems.push(`${monitoringUrl(replica)}: ${got.body.error ?? `HTTP ${got.status}`}`);
    } catch (err) {
      problems.push(`${monitoringUrl(replica)}: cannot reach: ${(err as Error).message}`);
    }
  }
  process.stderr.write(`error: no control plane replica has proxy ${proxyId}:\n${problems.map((p) => `  ${p}\n`).join('')}`);
  return 1;
}

function print(kind: Kind, config: ProxyConfig, output: string): number {
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(jsonFor(kind, config), null, 2)}\n`);
    return 0;
  }
  const t = tableFor(kind, config);
  process.stdout.write(table(t.header, t.rows));
  return 0;
}
