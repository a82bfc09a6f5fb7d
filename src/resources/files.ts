import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import type { SourceText } from './load.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads files and directories (recursively, sorted, YAML and JSON only); `-` reads stdin. */
export function readSources(paths: readonly string[]): SourceText[] {
  const out: SourceText[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push({ file: '<stdin>', text: readFileSync(0, 'utf8') });
      continue;
    }
    collect(path, out, true);
  }
  return out;
}

function collect(path: string, out: SourceText[], explicit: boolean): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (entry.startsWith('.')) continue;
      collect(join(path, entry), out, false);
    }
    return;
  }
  if (!explicit && !EXTENSIONS.has(extname(path).toLowerCase())) return;
  out.push({ file: path, text: readFileSync(path, 'utf8') });
}
