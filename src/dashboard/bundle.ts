/**
 * The dashboard's front end bundled at build time (`npm run build`, `npm test`, `npm run bench`
 * run it after tsc): web/main.tsx with Preact, uPlot and cytoscape into one app.js and one
 * app.css beside the compiled server (`<build dir>/src/dashboard/web/`), where server.ts reads
 * them. Minified, no source maps, nothing left to fetch at run time; node_modules is not served.
 * Run as a script it prints each file's size, raw and gzipped.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { repoPath } from '../lib/repo.js';

/** Where the compiled server looks for the bundle. */
export const BUNDLE_DIR = fileURLToPath(new URL('./web/', import.meta.url));

export interface BundledFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export async function bundleDashboard(outDir: string = BUNDLE_DIR): Promise<BundledFile[]> {
  const web = repoPath('src', 'dashboard', 'web');
  await build({
    entryPoints: [join(web, 'main.tsx')],
    tsconfig: join(web, 'tsconfig.json'),
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // Licence headers of the libraries stay at the end of app.js.
    legalComments: 'eof',
    logLevel: 'warning',
  });
  return ['app.js', 'app.css'].map((name) => {
    const body = readFileSync(join(outDir, name));
    return { name, bytes: body.length, gzipBytes: gzipSync(body).length };
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  bundleDashboard().then((files) => {
    for (const f of files) process.stdout.write(`dashboard bundle: ${f.name} ${(f.bytes / 1024).toFixed(1)} KiB (${(f.gzipBytes / 1024).toFixed(1)} KiB gzipped)\n`);
  }, (err: Error) => {
    process.stderr.write(`dashboard bundle failed: ${err.message}\n`);
    process.exitCode = 1;
  });
}
