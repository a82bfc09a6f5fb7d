import type { Command } from 'commander';
import type { RuntimeStatus } from '../../runtime/status.js';
import { client, collect, fail, printApply, readFiles, type ApplyReply } from './runtime-common.js';

interface UpFlags {
  filename: string[];
  network: string;
  foreground?: boolean;
  wait: boolean;
  install: boolean;
  demo?: boolean;
  ingressHttpPort?: string;
  ingressHttpsPort?: string;
  timeout: string;
}

/** `weft up`, `weft down`, `weft status`: the local runtime's lifecycle. */
export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the local mesh (in the background unless --foreground), install the default profile if needed, apply files, wait, print URLs')
    .option('-f, --filename <path>', 'files or directories to apply once running (repeatable)', collect, [])
    .option('--network <mode>', 'auto, plain or netns', 'auto')
    .option('--foreground', 'run the runtime in this process; Ctrl-C stops everything')
    .option('--no-wait', 'do not wait for pods to be ready')
    .option('--no-install', 'do not install the default profile when no control plane is installed')
    .option('--demo', 'install the demo profile if none is installed, label the default namespace for injection and run the demo app (what npm start does)')
    .option('--ingress-http-port <port>', 'host port for the ingress gateway\'s port 80 (default 8080; 0 picks one)')
    .option('--ingress-https-port <port>', 'host port for the ingress gateway\'s port 443 (default 8443; 0 picks one)')
    .option('--timeout <seconds>', 'how long to wait for readiness', '120')
    .action(async (flags: UpFlags) => {
      process.exitCode = await runUp(flags);
    });
  program
    .command('down')
    .description('stop the local mesh (applied resources are kept unless --purge)')
    .option('--purge', 'also remove every applied resource, log and key in WEFT_HOME')
    .action(async (flags: { purge?: boolean }) => {
      process.exitCode = await runDown(flags.purge === true);
    });
  program
    .command('status')
    .description('the local runtime, control plane revisions, gateways and URLs')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (flags: { output: string }) => {
      process.exitCode = await runStatus(flags.output);
    });
}

function portFlag(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`${name}: ${JSON.stringify(text)} is not a port number`);
  return Number(text);
}

async function runUp(flags: UpFlags): Promise<number> {
  if (!['auto', 'plain', 'netns'].includes(flags.network)) {
    process.stderr.write('error: --network takes auto, plain or netns\n');
    return 2;
  }
  let http: number | undefined;
  let https: number | undefined;
  try {
    http = portFlag(flags.ingressHttpPort, '--ingress-http-port');
    https = portFlag(flags.ingressHttpsPort, '--ingress-https-port');
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  const c = await client();
  if (flags.foreground) {
    const { Daemon } = await import('../../runtime/daemon.js');
    const { createLogger } = await import('../../lib/log.js');
    const log = createLogger((line) => process.stderr.write(line));
    // Last resort: a bug in one handler must not take every pod of the mesh down with the daemon.
    process.on('uncaughtException', (err) => log.error('unexpected error (the runtime keeps running)', { error: err.stack ?? String(err) }));
    const daemon = new Daemon({
      network: flags.network as 'auto', log,
      ...(http !== undefined ? { ingressHttpPort: http } : {}), ...(https !== undefined ? { ingressHttpsPort: https } : {}),
    });
    try {
      await daemon.start();
    } catch (err) {
      return fail(err);
    }
    const stopped = daemon.stopped();
    const stop = () => void daemon.stop();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.stdout.write(`weft runtime ready ${JSON.stringify({ pid: process.pid, home: daemon.home.root, socket: daemon.home.socket })}\n`);
    const code = await afterStart(c, flags);
    if (code !== 0) process.exitCode = code;
    await stopped;
    process.exit(process.exitCode ?? 0);
  }
  if (!(await c.running())) {
    // The background daemon only runs; this process installs, applies and waits.
    const args = ['--network', flags.network, '--no-install'];
    if (http !== undefined) args.push('--ingress-http-port', String(http));
    if (https !== undefined) args.push('--ingress-https-port', String(https));
    try {
      await c.startBackground(args);
    } catch (err) {
      return fail(err);
    }
    process.stdout.write(`runtime started for ${c.home.root}\n`);
  } else if (http !== undefined || https !== undefined || flags.network !== 'auto') {
    process.stderr.write('warning: the runtime is already running; --network and ingress ports apply at its next start (weft down, then weft up)\n');
  }
  return afterStart(c, flags);
}

/** Install if needed, apply the files, wait for readiness, print URLs. */
async function afterStart(c: Awaited<ReturnType<typeof client>>, flags: UpFlags): Promise<number> {
  try {
    const { installIfMissing, applyDemo } = await import('./up-install.js');
    if (flags.install) await installIfMissing(c, flags.demo ? 'demo' : 'default');
    if (flags.demo) await applyDemo(c);
    if (flags.filename.length > 0) {
      const reply = await c.request<ApplyReply>('POST', '/apply', { sources: await readFiles(flags.filename) });
      const code = printApply(reply);
      if (code !== 0) return code;
    }
    if (flags.wait) await waitReady(c, Number(flags.timeout) * 1000);
    const status = await c.request<RuntimeStatus>('GET', '/status');
    printUrls(status);
    if (flags.demo && status.ingress.http) process.stdout.write(`demo app:      ${status.ingress.http}/productpage (sign in as jason to see reviews v2 under Istio's request routing task)\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}

async function waitReady(c: Awaited<ReturnType<typeof client>>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await c.request<{ items: { metadata: { name: string; namespace: string }; spec: { replicas?: number }; status?: { readyReplicas?: number; updatedReplicas?: number; replicas?: number } }[] }>('GET', '/objects?kind=Deployment');
    const waiting = list.items.filter((d) => (d.status?.readyReplicas ?? 0) < (d.spec.replicas ?? 1) || (d.status?.replicas ?? 0) !== (d.spec.replicas ?? 1));
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs / 1000}s: ${waiting.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).join(', ')} (see weft get pods -A)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function printUrls(s: RuntimeStatus): void {
  process.stdout.write(`ingress http:  ${s.ingress.http ?? '(no ingress gateway)'}\n`);
  if (s.ingress.https) process.stdout.write(`ingress https: ${s.ingress.https}\n`);
  process.stdout.write(`dashboard:     ${s.dashboard ?? '(not available yet)'}\n`);
}

async function runDown(purge: boolean): Promise<number> {
  const c = await client();
  if (!(await c.running())) {
    if (purge) {
      const { rmSync } = await import('node:fs');
      for (const dir of [c.home.store, c.home.logs, c.home.pods, c.home.controlPlanes, c.home.ca]) rmSync(dir, { recursive: true, force: true });
      rmSync(c.home.settings, { force: true });
      process.stdout.write(`runtime not running; purged ${c.home.root}\n`);
      return 0;
    }
    process.stdout.write(`runtime not running for ${c.home.root}\n`);
    return 0;
  }
  try {
    await c.request('POST', '/shutdown', { purge });
    const deadline = Date.now() + 60_000;
    while (await c.running()) {
      if (Date.now() > deadline) throw new Error('the runtime did not stop within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The socket is gone before the lock: wait for the daemon process itself to finish.
    const { lockHolder } = await import('../../runtime/lock.js');
    while (lockHolder(c.home.pidFile) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    process.stdout.write(`runtime stopped${purge ? ' and purged' : ''}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}

async function runStatus(output: string): Promise<number> {
  try {
    const s = await (await client()).request<RuntimeStatus>('GET', '/status');
    if (output === 'json') {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`runtime: running (pid ${s.runtime.pid}, ${s.runtime.home}), network ${s.network}, ${s.runtime.pods} pods\n`);
    for (const cp of s.controlPlanes) process.stdout.write(`control plane ${cp.revision}: ${cp.namespace}/${cp.deployment} ${cp.ready}/${cp.replicas} ready\n`);
    if (s.controlPlanes.length === 0) process.stdout.write('control plane: not installed\n');
    for (const g of s.gateways) process.stdout.write(`gateway ${g.namespace}/${g.name} (${g.role}): ${g.ready}/${g.replicas} ready\n`);
    printUrls(s);
    return 0;
  } catch (err) {
    return fail(err);
  }
}
