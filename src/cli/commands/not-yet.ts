import type { Command } from 'commander';

/**
 * Commands of the contract (DESIGN.md) whose part of the mesh has not landed yet. They exist so
 * `npm start` and scripts get a clear answer instead of "unknown command"; each says what is
 * missing and exits 3, never pretending to have done the work.
 */
const PENDING: { name: string; summary: string; waitsFor: string }[] = [];

export const NOT_YET_EXIT_CODE = 3;

export function registerPending(program: Command): void {
  for (const cmd of PENDING) {
    program
      .command(cmd.name)
      .description(`${cmd.summary} (not available yet)`)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .action(() => {
        process.stderr.write(
          `weft ${cmd.name}: not available yet: it needs ${cmd.waitsFor}, which has not landed.\n` +
            `What works today: weft analyze -f <files or directories> (validation and Istio's analyzers).\n`,
        );
        process.exitCode = NOT_YET_EXIT_CODE;
      });
  }
}
