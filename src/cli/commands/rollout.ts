import type { Command } from 'commander';
import { client, fail } from './runtime-common.js';

/** `weft rollout restart deployment/NAME` and `weft logs POD [-c C]`, kubectl-style. */
export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('manage rollouts of deployments');
  rollout
    .command('restart')
    .description('restart a deployment\'s pods one by one (new pods pick up injection changes)')
    .argument('<resource>', 'deployment/NAME')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (resource: string, flags: { namespace?: string }) => {
      const m = /^(?:deployments?|deploy)(?:\.apps)?\/(.+)$/.exec(resource);
      if (!m?.[1]) {
        process.stderr.write(`error: expected deployment/NAME, got ${JSON.stringify(resource)}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const reply = await (await client()).request<{ ref: string; action: string }>('POST', '/rollout-restart', { namespace: flags.namespace ?? 'default', name: m[1] });
        process.stdout.write(`${reply.ref} ${reply.action}\n`);
      } catch (err) {
        process.exitCode = fail(err);
      }
    });
  program
    .command('logs')
    .description('print a container\'s output (-c istio-proxy for the sidecar)')
    .argument('<pod>', 'pod name')
    .option('-c, --container <name>', 'container (default: the app container)')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .action(async (pod: string, flags: { container?: string; namespace?: string }) => {
      try {
        const q = new URLSearchParams({ namespace: flags.namespace ?? 'default', pod, container: flags.container ?? '' });
        const reply = await (await client()).request<{ text: string }>('GET', `/logs?${q.toString()}`);
        process.stdout.write(reply.text);
      } catch (err) {
        process.exitCode = fail(err);
      }
    });
}
