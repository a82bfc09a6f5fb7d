import type { Command } from 'commander';
import { compareDiagnostics, formatDiagnostic, levelAtLeast, originName, type Diagnostic, type Level } from '../../lib/diagnostic.js';

interface AnalyzeFlags {
  filename: string[];
  output: 'text' | 'json' | 'yaml';
  failOn: string;
  outputThreshold: string;
}

const LEVELS: Record<string, Level> = { error: 'Error', warning: 'Warning', info: 'Info' };

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('validate Istio and Kubernetes resources and check them against each other (istioctl analyze)')
    .argument('[files...]', 'files or directories to analyze (same as -f)')
    .option('-f, --filename <path>', 'file or directory (YAML or JSON; repeatable; - for stdin)', collect, [])
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .option('--fail-on <level>', 'exit 1 when a message at this level or above is found: error, warning or info', 'error')
    .option('--output-threshold <level>', 'print messages at this level or above: error, warning or info', 'info')
    .action(async (files: string[], flags: AnalyzeFlags) => {
      process.exitCode = await runAnalyze([...flags.filename, ...files], flags);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the analysis and prints it; returns the process exit code. */
export async function runAnalyze(paths: string[], flags: Pick<AnalyzeFlags, 'output' | 'failOn' | 'outputThreshold'>): Promise<number> {
  // Loaded here, not at the top, so other commands (the proxy above all) do not carry the resource model.
  const { loadResources, readSources, analyzeResources } = await import('../../resources/index.js');
  const failOn = LEVELS[flags.failOn.toLowerCase()];
  const threshold = LEVELS[flags.outputThreshold.toLowerCase()];
  if (!failOn || !threshold) {
    process.stderr.write(`error: levels are error, warning or info\n`);
    return 2;
  }
  if (paths.length === 0) {
    process.stderr.write('error: nothing to analyze: give files or directories with -f\n');
    return 2;
  }
  let sources;
  try {
    sources = readSources(paths);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
  const loaded = loadResources(sources, { duplicates: 'last-wins' });
  const diagnostics = [...loaded.diagnostics, ...analyzeResources(loaded.resources)].sort(compareDiagnostics);
  const shown = diagnostics.filter((d) => levelAtLeast(d.level, threshold));
  if (flags.output === 'json') {
    process.stdout.write(`${JSON.stringify(shown.map(toJson), null, 2)}\n`);
  } else if (shown.length === 0) {
    process.stdout.write(`\u2714 No validation issues found when analyzing ${sources.length} file${sources.length === 1 ? '' : 's'} (${loaded.resources.length} resources).\n`);
  } else {
    for (const d of shown) process.stdout.write(`${formatDiagnostic(d)}\n`);
  }
  return diagnostics.some((d) => levelAtLeast(d.level, failOn)) ? 1 : 0;
}

function toJson(d: Diagnostic): Record<string, unknown> {
  return {
    code: d.code,
    level: d.level,
    origin: d.origin ? `${d.origin.kind} ${originName(d.origin)}` : undefined,
    message: d.message,
    documentationUrl: d.code.startsWith('IST') ? `https://istio.io/latest/docs/reference/config/analysis/${d.code.toLowerCase()}/` : undefined,
    reference: d.location,
  };
}
