import type { Command } from 'commander';
import { client, collect, fail, printApply, readFiles, type ApplyReply } from './runtime-common.js';

/** `weft apply -f` and `weft delete -f`: all-or-nothing, through the local runtime. */
export function registerApply(program: Command): void {
  for (const verb of ['apply', 'delete'] as const) {
    program
      .command(verb)
      .description(verb === 'apply' ? 'create or update resources from files (all-or-nothing)' : 'delete the resources the files name')
      .option('-f, --filename <path>', 'file, directory or - for stdin (repeatable)', collect, [])
      .action(async (flags: { filename: string[] }) => {
        if (flags.filename.length === 0) {
          process.stderr.write(`error: weft ${verb} needs -f FILE, DIR or -\n`);
          process.exitCode = 2;
          return;
        }
        try {
          const sources = await readFiles(flags.filename);
          const reply = await (await client()).request<ApplyReply>('POST', `/${verb}`, { sources });
          process.exitCode = printApply(reply);
        } catch (err) {
          process.exitCode = fail(err);
        }
      });
  }
}
