/**
 * The proxy's entry (proxy-entry.js) bundled at build time (`npm run build`, `npm test` and
 * `npm run bench` run this after tsc) into `<build dir>/src/cli/proxy-bundle/weft-proxy.js`: a
 * sidecar then loads a few files instead of ~110 ES modules, so Node's module resolver never gets
 * hot enough for TurboFan to compile it at startup, and less source stays in the heap (idle RSS:
 * bench/proxy/PERF-NOTES.md). Code loaded on demand (the discovery client, ext_authz, REDIRECT's
 * addon) stays in chunks of its own; npm packages stay outside, so jose, re2js and cel-js are
 * still read only when a config needs them. The compiled JS is the input, so any build folder
 * bundles its own code. Run as a script it prints the files and their sizes.
 */
import { build } from 'esbuild';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where bin/weft.js and the runtime look for the bundle, beside the compiled CLI. */
export const PROXY_BUNDLE_DIR = fileURLToPath(new URL('../proxy-bundle/', import.meta.url));
export const PROXY_BUNDLE_ENTRY = 'weft-proxy.js';

export async function bundleProxy(outDir: string = PROXY_BUNDLE_DIR): Promise<{ name: string; bytes: number }[]> {
  // Chunk names change with their content: last build's must not pile up.
  rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { 'weft-proxy': fileURLToPath(new URL('./proxy-entry.js', import.meta.url)) },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Whitespace and syntax only: stack traces in the proxy's logs keep the code's own names.
    minifyWhitespace: true,
    minifySyntax: true,
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  return Object.keys(result.metafile.outputs).map((path) => ({ name: path, bytes: statSync(path).size }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  bundleProxy().then((files) => {
    const total = files.reduce((sum, f) => sum + f.bytes, 0);
    process.stdout.write(`proxy bundle: ${join(PROXY_BUNDLE_DIR, PROXY_BUNDLE_ENTRY)} and ${files.length - 1} chunks, ${(total / 1024).toFixed(1)} KiB\n`);
  }, (err: Error) => {
    process.stderr.write(`proxy bundle failed: ${err.message}\n`);
    process.exitCode = 1;
  });
}
