/**
 * `weft up`'s install and demo steps. When no control plane is installed, a profile is installed
 * with the same plan as `weft install` (the default profile; `demo` for `npm start`, which traces
 * every request). `--demo` then does what Istio's bookinfo guide does by hand: label the default
 * namespace for injection and apply the demo app, its gateway route and its subsets.
 */
import type { RuntimeClient } from '../../runtime/client.js';
import { printApply, readFiles, type ApplyReply } from './runtime-common.js';

export async function installIfMissing(c: RuntimeClient, profile: 'default' | 'demo'): Promise<void> {
  const install = await import('../../install/index.js');
  const { runtimeTarget } = await import('./install.js');
  const target = runtimeTarget(c);
  const current = await target.list();
  if (install.installedRevisions(current).length > 0) return;
  const resolved = install.resolveOperator({ files: [], sets: profile === 'default' ? [] : [`profile=${profile}`] });
  if (!resolved.ok) throw new Error(`cannot resolve the ${profile} profile: ${resolved.errors.join('; ')}`);
  const { operator } = install.withDefaultTag(resolved.operator, current);
  const steps = install.planInstall(current, install.renderInstall(operator), operator.revision);
  process.stdout.write(`installing the ${profile} profile\n`);
  for (const line of await install.applyPlan(target, steps)) process.stdout.write(`${line}\n`);
}

/** Labels `default` for injection (unless it already says otherwise) and applies the demo. */
export async function applyDemo(c: RuntimeClient): Promise<void> {
  const { DEMO_MANIFESTS } = await import('../../demo/index.js');
  const reply = await c.request<{ ref: string; action: string }>('POST', '/label', { kind: 'Namespace', namespace: '', name: 'default', set: { 'istio-injection': 'enabled' }, remove: [], overwrite: false });
  process.stdout.write(`${reply.ref} ${reply.action}\n`);
  const sources = await readFiles(Object.values(DEMO_MANIFESTS));
  if (printApply(await c.request<ApplyReply>('POST', '/apply', { sources })) !== 0) throw new Error('the demo did not apply');
}
