#!/usr/bin/env node
// `weft proxy` (every sidecar and gateway) starts from the bundled proxy entry when the build made
// it: no CLI, a few files instead of ~110 modules (less idle memory per proxy). Anything else, a
// build without the bundle, or one whose CLI tsc wrote again after it (older code), runs the CLI.
import { statSync } from 'node:fs';

const bundle = new URL('../dist/src/cli/proxy-bundle/weft-proxy.js', import.meta.url);
const source = new URL('../dist/src/cli/commands/proxy-entry.js', import.meta.url);
const current = (() => {
  try {
    return statSync(bundle).mtimeMs >= statSync(source).mtimeMs;
  } catch {
    return false;
  }
})();
await import(process.argv[2] === 'proxy' && current ? bundle.href : '../dist/src/cli/main.js');
