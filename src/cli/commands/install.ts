/**
 * `weft install` and `weft uninstall`, istioctl's way: resolve the IstioOperator (files, --set,
 * --revision, profile), render it, print the plan against what the local runtime holds, ask
 * (unless -y), apply only the difference, wait until the components are ready. The install
 * logic is src/install/; this file is the glue to the runtime's client and the terminal.
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { InstallTarget, KubeObject, PlanStep } from '../../install/index.js';
import type { RuntimeClient } from '../../runtime/client.js';
import { client, collect, readFiles, type ApplyReply } from './runtime-common.js';
import { formatDiagnostic } from '../../lib/diagnostic.js';

interface InstallFlags {
  filename: string[];
  set: string[];
  revision?: string;
  skipConfirmation?: boolean;
  dryRun?: boolean;
  wait: boolean;
  timeout: string;
}

interface UninstallFlags {
  filename?: string;
  set: string[];
  revision?: string;
  purge?: boolean;
  skipConfirmation?: boolean;
  dryRun?: boolean;
}

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('reconcile an IstioOperator spec (control plane replicas, gateways, profile, proxy values): print the plan, apply only the difference')
    .option('-f, --filename <path>', 'IstioOperator file; repeatable, later files override earlier ones', collect, [])
    .option('-s, --set <path=value>', 'override a spec field with istioctl\'s path syntax, e.g. values.global.proxy.resources.limits.memory=512Mi (repeatable)', collect, [])
    .option('-r, --revision <revision>', 'install this control plane revision beside the others (same as --set revision=R)')
    .option('-y, --skip-confirmation', 'apply the plan without asking')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--no-wait', 'do not wait for the components to be ready')
    .option('--timeout <seconds>', 'how long to wait for the components to be ready', '300')
    .action(async (flags: InstallFlags) => {
      process.exitCode = await runInstall(flags);
    });
  program
    .command('uninstall')
    .description('remove a control plane revision and what it owns, or with --purge everything any install created (namespaces stay)')
    .option('-r, --revision <revision>', 'the revision to remove (default: the default revision)')
    .option('-f, --filename <path>', 'remove the revision this IstioOperator file installs')
    .option('-s, --set <path=value>', 'as for install, to name the revision of a file (repeatable)', collect, [])
    .option('--purge', 'remove every revision and gateway an install created')
    .option('-y, --skip-confirmation', 'do not ask, even when proxies still use the revision')
    .option('--dry-run', 'print what would be removed and change nothing')
    .action(async (flags: UninstallFlags) => {
      process.exitCode = await runUninstall(flags);
    });
}

async function runInstall(flags: InstallFlags): Promise<number> {
  const install = await import('../../install/index.js');
  let files;
  try {
    files = await readFiles(flags.filename);
  } catch (err) {
    return failWith((err as Error).message);
  }
  const resolved = install.resolveOperator({ files, sets: flags.set, ...(flags.revision !== undefined ? { revision: flags.revision } : {}) });
  for (const w of resolved.warnings) process.stderr.write(`! ${w}\n`);
  if (!resolved.ok) {
    for (const e of resolved.errors) process.stderr.write(`${e.startsWith('Error') ? e : `error: ${e}`}\n`);
    process.stderr.write('error: nothing was installed\n');
    return 1;
  }
  const c = await client();
  const running = await c.running();
  if (!running && !flags.dryRun) {
    try {
      // As `weft up` starts it, minus its default install: this install is the one wanted.
      await c.startBackground(['--no-install']);
    } catch (err) {
      return failWith((err as Error).message);
    }
    process.stdout.write(`runtime started for ${c.home.root}\n`);
  }
  const target = runtimeTarget(c);
  try {
    const current = running || !flags.dryRun ? await target.list() : [];
    const { operator: op, madeDefault } = install.withDefaultTag(resolved.operator, current);
    const desired = install.renderInstall(op);
    const steps = install.planInstall(current, desired, op.revision);
    process.stdout.write(`weft install: profile ${op.profile}, revision ${install.revisionLabel(op.revision)}\n`);
    if (madeDefault) process.stdout.write('This installation will be the default for injection (no other revision is installed).\n');
    process.stdout.write(install.formatPlan(steps));
    if (steps.length === 0 || flags.dryRun) return 0;
    if (!flags.skipConfirmation) {
      const answer = await confirm('Proceed? (y/N) ');
      if (answer === 'no-tty') return failWith('the plan was not applied: stdin is not a terminal, so nothing can be confirmed; run again with -y to apply it');
      if (!answer) {
        process.stdout.write('Cancelled.\n');
        return 1;
      }
    }
    for (const line of await install.applyPlan(target, steps)) process.stdout.write(`${line}\n`);
    if (flags.wait) await waitReady(c, desired.filter((o) => o.kind === 'Deployment'), Number(flags.timeout) * 1000);
    process.stdout.write('✔ Installation complete\n');
    return 0;
  } catch (err) {
    return failWith((err as Error).message);
  }
}

async function runUninstall(flags: UninstallFlags): Promise<number> {
  const install = await import('../../install/index.js');
  if (flags.revision === undefined && flags.filename === undefined && !flags.purge && !flags.set.some((s) => s.startsWith('revision='))) {
    process.stderr.write('error: at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set\n');
    return 2;
  }
  let revision = install.normalizeRevision(flags.revision);
  if (flags.revision === undefined && (flags.filename !== undefined || flags.set.length > 0)) {
    const resolved = install.resolveOperator({ files: flags.filename !== undefined ? await readFiles([flags.filename]) : [], sets: flags.set });
    if (!resolved.ok) return failWith(resolved.errors.join('\n'));
    revision = resolved.operator.revision;
  }
  if (flags.purge && (flags.revision !== undefined || flags.filename !== undefined)) {
    process.stdout.write('Purge uninstall will remove all Istio resources, ignoring the specified revision or operator file\n');
  }
  const c = await client();
  if (!(await c.running())) return failWith(`nothing to uninstall: the local runtime is not running for ${c.home.root}`);
  const target = runtimeTarget(c);
  try {
    const current = await target.list();
    if (!flags.purge && !install.installedRevisions(current).includes(install.revisionLabel(revision))) {
      const installed = install.installedRevisions(current);
      return failWith(`could not find target revision "${install.revisionLabel(revision)}"; installed: ${installed.length > 0 ? installed.join(', ') : 'none'}`);
    }
    const steps = install.planUninstall(current, flags.purge ? 'all' : revision);
    process.stdout.write(install.formatPlan(steps));
    if (steps.length === 0) {
      process.stdout.write('No resources will be pruned. Please double check the input configs\n');
      return 0;
    }
    const { message, needConfirmation } = uninstallWarnings(install, steps, flags.purge === true ? undefined : revision, await target.pods());
    if (message) process.stdout.write(message);
    if (flags.dryRun) return 0;
    if (needConfirmation && !flags.skipConfirmation) {
      const answer = await confirm('Proceed? (y/N) ');
      if (answer === 'no-tty') return failWith('not removed: this uninstall needs confirmation and stdin is not a terminal; run again with -y to proceed');
      if (!answer) {
        process.stdout.write('Cancelled.\n');
        return 1;
      }
    }
    for (const line of await install.applyPlan(target, steps)) process.stdout.write(`${line}\n`);
    process.stdout.write('✔ Uninstall complete\n');
    return 0;
  } catch (err) {
    return failWith((err as Error).message);
  }
}

/** istioctl's pre-uninstall checks (operator/cmd/mesh/uninstall.go preCheckWarnings). */
function uninstallWarnings(install: typeof import('../../install/index.js'), steps: readonly PlanStep[], revision: string | undefined, pods: readonly KubeObject[]): { message: string; needConfirmation: boolean } {
  if (revision === undefined) return { message: 'All Istio resources will be pruned from the cluster\n', needConfirmation: true };
  let message = '';
  let needConfirmation = false;
  const proxies = install.proxiesOf(pods, revision);
  if (proxies.length > 0) {
    needConfirmation = true;
    message += `There are still ${proxies.length} proxies pointing to the control plane revision ${install.revisionLabel(revision)}\n`;
    if (proxies.length <= 30) message += `${proxies.join('\n')}\n`;
    message += 'If you proceed with the uninstall, these proxies will become detached from any control plane and will not function correctly.\n';
  }
  const gateways = install.gatewaysRemoved(steps);
  if (gateways.length > 0) {
    needConfirmation = true;
    message += `You are about to remove the following gateways: ${gateways.join(', ')}. To avoid downtime, please quit this command and reinstall the gateway(s) with a revision that is not being removed from the cluster.\n`;
  }
  return { message, needConfirmation };
}

/** The local runtime as an install target, through its socket API. */
export function runtimeTarget(c: RuntimeClient): InstallTarget {
  const list = async (kind: string) => (await c.request<{ items: KubeObject[] }>('GET', `/objects?kind=${kind}`)).items;
  const send = async (route: '/apply' | '/delete', objects: readonly KubeObject[]) => {
    const text = objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
    const reply = await c.request<ApplyReply>('POST', route, { sources: [{ file: 'weft install', text }] });
    if (!reply.ok) throw new Error(`the runtime refused the change:\n${(reply.diagnostics ?? []).map(formatDiagnostic).join('\n')}`);
    return (reply.results ?? []).map((r) => `${r.ref}${r.namespace ? ` -n ${r.namespace}` : ''} ${r.action}`);
  };
  return {
    list: async () => (await Promise.all(['Namespace', 'ServiceAccount', 'Service', 'Deployment', 'IstioOperator'].map(list))).flat(),
    apply: (objects) => send('/apply', objects),
    remove: (objects) => send('/delete', objects.map(withoutStatus)),
    pods: () => list('Pod'),
  };
}

/** The runtime lists Deployments with a status; a delete needs only the object. */
function withoutStatus(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  return rest as KubeObject;
}

/** Like istioctl: done once every Deployment has all its replicas updated and ready. */
async function waitReady(c: RuntimeClient, deployments: readonly KubeObject[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting: string[] = [];
    for (const d of deployments) {
      const items = (await c.request<{ items: KubeObject[] }>('GET', `/objects?kind=Deployment&namespace=${d.metadata.namespace ?? ''}&name=${d.metadata.name}`)).items;
      const status = (items[0]?.status ?? {}) as { replicas?: number; readyReplicas?: number; updatedReplicas?: number };
      const want = Number((d.spec as { replicas?: number }).replicas ?? 1);
      const ready = status.readyReplicas ?? 0;
      if (ready < want || (status.updatedReplicas ?? 0) < want || (status.replicas ?? 0) > want) waiting.push(`Deployment ${d.metadata.namespace}/${d.metadata.name} (${ready}/${want} ready)`);
    }
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${waiting.join(', ')}; see weft get pods -n istio-system and weft logs`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function confirm(question: string): Promise<boolean | 'no-tty'> {
  if (!process.stdin.isTTY) return 'no-tty';
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

function failWith(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 1;
}
