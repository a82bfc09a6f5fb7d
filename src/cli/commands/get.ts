import type { Command } from 'commander';
import { stringify } from 'yaml';
import { table } from '../format.js';
import { client, fail } from './runtime-common.js';

interface GetFlags {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
}

/** `weft get KIND [NAME]` and `weft label KIND NAME k=v|k-`, kubectl-style, from the local runtime. */
export function registerGet(program: Command): void {
  program
    .command('get')
    .description('list resources of the local mesh (pods, deployments, services, namespaces, serviceaccounts, Istio kinds)')
    .argument('<kind>', 'pods, deployments, services, namespaces, serviceaccounts, virtualservices, ...')
    .argument('[name]', 'one resource by name')
    .option('-n, --namespace <ns>', 'namespace (default: default)')
    .option('-A, --all-namespaces', 'every namespace')
    .option('-o, --output <format>', 'wide, json or yaml')
    .action(async (kindText: string, name: string | undefined, flags: GetFlags) => {
      process.exitCode = await runGet(kindText, name, flags);
    });
  program
    .command('label')
    .description('add (key=value) or remove (key-) labels, e.g. weft label namespace default istio-injection=enabled')
    .argument('<kind>', 'namespace, deployment, service, ...')
    .argument('<name>')
    .argument('<labels...>', 'key=value to set, key- to remove')
    .option('-n, --namespace <ns>', 'namespace of a namespaced resource (default: default)')
    .option('--overwrite', 'replace a label that already has another value')
    .action(async (kindText: string, name: string, labels: string[], flags: { namespace?: string; overwrite?: boolean }) => {
      process.exitCode = await runLabel(kindText, name, labels, flags);
    });
}

async function runGet(kindText: string, name: string | undefined, flags: GetFlags): Promise<number> {
  const { kindFromName, isNamespaced } = await import('../../runtime/kinds.js');
  const kind = kindFromName(kindText);
  if (!kind) {
    process.stderr.write(`error: the server doesn't have a resource type "${kindText}"\n`);
    return 1;
  }
  const output = flags.output ?? '';
  if (!['', 'wide', 'json', 'yaml'].includes(output)) {
    process.stderr.write('error: -o takes wide, json or yaml\n');
    return 2;
  }
  const namespaced = isNamespaced(kind);
  const all = flags.allNamespaces === true && !name;
  const namespace = !namespaced || all ? '' : flags.namespace ?? 'default';
  try {
    const q = new URLSearchParams({ kind, namespace, name: name ?? '' });
    const list = await (await client()).request<{ apiVersion: string; kind: string; items: Record<string, unknown>[] }>('GET', `/objects?${q.toString()}`);
    if (name && list.items.length === 0) {
      process.stderr.write(`Error from server (NotFound): ${kindText} "${name}" not found\n`);
      return 1;
    }
    const shown = name ? list.items[0] : list;
    if (output === 'json') process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    else if (output === 'yaml') process.stdout.write(stringify(shown, { lineWidth: 0 }));
    else if (list.items.length === 0) process.stderr.write(namespace ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
    else {
      const { tableFor } = await import('./get-tables.js');
      const t = tableFor(kind, list.items, output === 'wide', all && namespaced);
      process.stdout.write(table(t.header, t.rows));
    }
    return 0;
  } catch (err) {
    return fail(err);
  }
}

async function runLabel(kindText: string, name: string, labels: string[], flags: { namespace?: string; overwrite?: boolean }): Promise<number> {
  const { kindFromName, isNamespaced } = await import('../../runtime/kinds.js');
  const kind = kindFromName(kindText);
  if (!kind) {
    process.stderr.write(`error: the server doesn't have a resource type "${kindText}"\n`);
    return 1;
  }
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const l of labels) {
    const m = /^([^=]+)=(.*)$/.exec(l);
    if (m?.[1] !== undefined) set[m[1]] = m[2] ?? '';
    else if (l.endsWith('-') && l.length > 1) remove.push(l.slice(0, -1));
    else {
      process.stderr.write(`error: invalid label ${JSON.stringify(l)}: expected key=value or key-\n`);
      return 2;
    }
  }
  try {
    const namespace = isNamespaced(kind) ? flags.namespace ?? 'default' : '';
    const reply = await (await client()).request<{ ref: string; action: string }>('POST', '/label', { kind, namespace, name, set, remove, overwrite: flags.overwrite === true });
    process.stdout.write(`${reply.ref} ${reply.action}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}
