/**
 * What the runtime commands share: a client for this WEFT_HOME, errors printed as kubectl prints
 * them (exit 1), and reading `-f` files on the CLI's side (paths are the user's, relative to
 * where the command runs; the daemon gets their text).
 */
import type { SourceText } from '../../resources/index.js';
import { formatDiagnostic, type Diagnostic } from '../../lib/diagnostic.js';

export async function client(): Promise<import('../../runtime/client.js').RuntimeClient> {
  const { RuntimeClient } = await import('../../runtime/client.js');
  return new RuntimeClient();
}

export function fail(err: unknown): number {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  return 1;
}

export async function readFiles(paths: readonly string[]): Promise<SourceText[]> {
  const { readSources } = await import('../../resources/index.js');
  return readSources(paths);
}

export interface ApplyReply {
  ok: boolean;
  results?: { ref: string; namespace: string; action: string }[];
  diagnostics?: Diagnostic[];
}

/** kubectl's lines (`deployment.apps/x created`), or every diagnostic and exit 1. */
export function printApply(reply: ApplyReply): number {
  if (!reply.ok) {
    for (const d of reply.diagnostics ?? []) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write(`error: nothing was applied: ${reply.diagnostics?.length ?? 0} error(s)\n`);
    return 1;
  }
  let code = 0;
  for (const r of reply.results ?? []) {
    if (r.action === 'not found') {
      process.stderr.write(`Error from server (NotFound): ${r.ref} not found\n`);
      code = 1;
    } else {
      process.stdout.write(`${r.ref} ${r.action}\n`);
    }
  }
  return code;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface PodListItem {
  metadata: { labels?: Record<string, string> };
  spec: { containers: { command?: string[] }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

/**
 * The control plane's monitoring addresses when the user names none: the ready control plane
 * pods of the local runtime in this WEFT_HOME (every revision), else 127.0.0.1:15014.
 */
export async function defaultMonitoringUrls(fallback: string): Promise<string[]> {
  try {
    const c = await client();
    if (!(await c.running())) return [fallback];
    const pods = (await c.request<{ items: PodListItem[] }>('GET', '/objects?kind=Pod')).items;
    const urls = pods
      .filter((p) => p.spec.containers.some((k) => k.command?.[0] === 'weft' && k.command[1] === 'control-plane') || p.metadata.labels?.app === 'istiod')
      .filter((p) => p.status.podIP && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
      .map((p) => `http://${p.status.podIP ?? ''}:15014`);
    return urls.length > 0 ? urls : [fallback];
  } catch {
    return [fallback];
  }
}
