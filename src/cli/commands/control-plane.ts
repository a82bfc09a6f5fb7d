import type { Command } from 'commander';
import { resolve } from 'node:path';

interface ControlPlaneFlags {
  config: string[];
  stateDir: string;
  port: string;
  monitoringPort: string;
  replicaId?: string;
  bind: string;
  debounce?: string;
  logLevel: string;
}

export function registerControlPlane(program: Command): void {
  const cmd = program
    .command('control-plane')
    .description('run the control plane (istiod): watch config, compile per proxy, push to connected proxies')
    .option('--config <path>', 'file or directory of Istio and Kubernetes resources (repeatable); watched for changes', collect, [])
    .option('--state-dir <dir>', 'where the proxy token key lives (created if missing)')
    .option('--port <port>', 'push (xDS) port for proxies; 0 picks a free one', '15010')
    .option('--monitoring-port <port>', 'monitoring and debug port: /metrics, /ready, /debug/*', '15014')
    .option('--replica-id <id>', 'this replica\'s name in proxy-status (default: istiod-<pid>)')
    .option('--bind <address>', 'address both ports bind', '127.0.0.1')
    .option('--debounce <duration>', 'quiet period before a push (default 100ms)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (flags: ControlPlaneFlags) => {
      process.exitCode = await runControlPlane(flags);
    });
  cmd
    .command('token')
    .description('print the token a proxy with this node id presents (the local runtime mints them the same way)')
    .argument('<node-id>', 'the proxy node id, e.g. reviews-v1-0.default')
    .option('--state-dir <dir>', 'the control plane\'s state directory')
    .action(async (nodeId: string, flags: { stateDir?: string }) => {
      // The parent command declares --state-dir too and commander hands it the flag; look there as well.
      const stateDir = flags.stateDir ?? (cmd.opts<{ stateDir?: string }>().stateDir);
      if (!stateDir) {
        process.exitCode = usage('--state-dir is required');
        return;
      }
      const { loadTokenKey, mintToken } = await import('../../control-plane/index.js');
      try {
        process.stdout.write(`${mintToken(loadTokenKey(resolve(stateDir)), nodeId)}\n`);
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runControlPlane(flags: ControlPlaneFlags): Promise<number> {
  // Loaded here so other commands (the proxy above all) never load the resource model and compiler.
  const cp = await import('../../control-plane/index.js');
  const { FileSource } = await import('../../sources/index.js');
  const { parseDurationMs } = await import('../../lib/duration.js');
  const level = (['debug', 'info', 'warn', 'error'].includes(flags.logLevel) ? flags.logLevel : 'info') as 'info';
  const log = cp.createLogger((line) => process.stderr.write(line), level);
  if (flags.config.length === 0) return usage('give at least one --config file or directory');
  if (!flags.stateDir) return usage('--state-dir is required (it holds the proxy token key)');
  const port = portFlag(flags.port);
  const monitoring = portFlag(flags.monitoringPort);
  if (port === undefined || monitoring === undefined) return usage('--port and --monitoring-port take a port number (0 picks one)');
  let controlPlane: InstanceType<typeof cp.ControlPlane>;
  let monitor: Awaited<ReturnType<typeof cp.startMonitoring>>;
  let pushPort: number;
  try {
    const tokenKey = cp.loadTokenKey(resolve(flags.stateDir));
    const source = new FileSource({ paths: flags.config.map((p) => resolve(p)) });
    controlPlane = new cp.ControlPlane({
      sources: [source],
      replicaId: flags.replicaId ?? `istiod-${process.pid}`,
      tokenKey,
      log,
      ...(flags.debounce !== undefined ? { debounceMs: parseDurationMs(flags.debounce) } : {}),
    });
    await controlPlane.start();
    pushPort = await controlPlane.push.listen(port, flags.bind);
    monitor = await cp.startMonitoring(controlPlane, flags.bind, monitoring);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
  let exiting = false;
  const stop = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    log.info('shutting down', { signal });
    monitor.closeAllConnections();
    monitor.close();
    void controlPlane.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // One line for supervisors and tests, like the proxy's: the ports actually bound.
  const ready = { pid: process.pid, replica: controlPlane.replicaId(), ready: controlPlane.ready(), ports: { xds: pushPort, monitoring: cp.monitoringPort(monitor) } };
  process.stdout.write(`weft control-plane ready ${JSON.stringify(ready)}\n`);
  return 0;
}

function portFlag(text: string): number | undefined {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

function usage(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}
