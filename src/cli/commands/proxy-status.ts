import type { Command } from 'commander';
import { DEFAULT_MONITORING_URL, collect, getJson, monitoringUrl, table } from '../format.js';
import { defaultMonitoringUrls } from './runtime-common.js';

/** What /debug/syncz answers (the push server's ProxyStatus list); only the fields shown are named. */
interface Syncz {
  replica: string;
  proxies: { nodeId: string; role: string; revision?: string; replica: string; sentVersion?: string; ackedVersion?: string; nackedVersion?: string; nackError?: string; state: string; auth?: string }[];
}

export function registerProxyStatus(program: Command): void {
  program
    .command('proxy-status')
    .description('which proxies are connected to which control plane replica, and whether they run the latest config (istioctl proxy-status)')
    .option('--control-plane <url>', `a replica's monitoring address (repeatable; default: the local runtime's control plane pods, else ${DEFAULT_MONITORING_URL})`, collect, [])
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (flags: { controlPlane: string[]; output: string }) => {
      process.exitCode = await runProxyStatus(flags.controlPlane.length > 0 ? flags.controlPlane : await defaultMonitoringUrls(DEFAULT_MONITORING_URL), flags.output);
    });
}

async function runProxyStatus(replicas: string[], output: string): Promise<number> {
  const answers = await Promise.all(replicas.map(async (r) => {
    const url = `${monitoringUrl(r)}/debug/syncz`;
    try {
      const got = await getJson<Syncz>(url);
      if (got.status !== 200) throw new Error(`HTTP ${got.status}`);
      return got.body;
    } catch (err) {
      process.stderr.write(`warning: cannot reach the control plane at ${url}: ${(err as Error).message}\n`);
      return undefined;
    }
  }));
  const reached = answers.filter((a): a is Syncz => a !== undefined);
  if (reached.length === 0) {
    process.stderr.write('error: no control plane replica answered; is `weft control-plane` running (see --control-plane)?\n');
    return 1;
  }
  const proxies = reached.flatMap((a) => a.proxies).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(proxies, null, 2)}\n`);
    return 0;
  }
  const rows = proxies.map((p) => [
    p.nodeId,
    p.role,
    p.revision || 'default',
    p.replica,
    // How the proxy authenticated its stream: its token, or its workload certificate (mTLS on 15012).
    p.auth ?? '',
    p.ackedVersion ?? p.sentVersion ?? '',
    // A NACK is the news an operator looks for: show why, on the proxy's own line.
    p.nackedVersion ? `${p.state} (NACK ${p.nackedVersion}: ${oneLine(p.nackError ?? '')})` : p.state,
  ]);
  process.stdout.write(table(['NAME', 'ROLE', 'REVISION', 'REPLICA', 'AUTH', 'VERSION', 'STATUS'], rows));
  return 0;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
}
