/**
 * `weft dashboard`: the dashboard's URL, as `weft status -o json` names it (the first ready
 * control plane pod serves it on 20001), printed, or opened in a browser with --open.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import type { RuntimeStatus } from '../../runtime/status.js';
import { client, fail } from './runtime-common.js';

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('print the dashboard URL (graph, workloads, traces, config), or open it with --open')
    .option('--open', 'also open it in the desktop\'s browser (xdg-open / open)')
    .action(async (flags: { open?: boolean }) => {
      process.exitCode = await runDashboard(flags.open === true);
    });
}

async function runDashboard(open: boolean): Promise<number> {
  try {
    const c = await client();
    if (!(await c.running())) {
      process.stderr.write(`error: the local runtime is not running for ${c.home.root}; start it with \`weft up\` (or \`npm start\`)\n`);
      return 1;
    }
    const s = await c.request<RuntimeStatus>('GET', '/status');
    if (!s.dashboard) {
      process.stderr.write('error: no control plane pod is ready yet, so nothing serves the dashboard; see `weft get pods -n istio-system`\n');
      return 1;
    }
    process.stdout.write(`${s.dashboard}\n`);
    if (open) {
      const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
      const child = spawn(opener, [s.dashboard], { stdio: 'ignore', detached: true });
      child.on('error', (err) => process.stderr.write(`warning: cannot open a browser (${opener}: ${err.message}); open the URL above\n`));
      child.unref();
    }
    return 0;
  } catch (err) {
    return fail(err);
  }
}
