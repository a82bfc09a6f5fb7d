import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root (the folder with Weft's package.json), found from this file's location, so
 * tests and tools work from compiled output in dist/ or any other build folder.
 */
export const repoRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'weft') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find Weft's package.json above ${start}`);
    dir = parent;
  }
}

/** A path inside the repository. */
export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

/** The shared folder beside the repository (seed configs, Istio samples): read-only test input. */
export function sharedPath(...parts: string[]): string {
  return join(repoRoot, '..', 'shared', ...parts);
}
