/**
 * `weft proxy` without the CLI: the entry every sidecar and gateway starts from (bin/weft.js and
 * the runtime's pod launch pick it; proxy-bundle.ts bundles it into one file at build time). A
 * proxy then holds neither commander nor any other command's code, and with the bundle it loads a
 * few files instead of ~110 modules (idle memory: bench/proxy/PERF-NOTES.md). Flags it cannot
 * read alone (help, errors) go to the full CLI, which answers as `weft proxy` always has.
 */
import { readProxyFlags } from './proxy-flags.js';
import { runProxy } from './proxy.js';

const flags = process.argv[2] === 'proxy' ? readProxyFlags(process.argv.slice(3)) : undefined;
// The CLI's main.js is one folder up, from here (src/cli/commands/) and from the bundle (src/cli/proxy-bundle/).
if (flags) process.exitCode = await runProxy(flags);
else await import(new URL('../main.js', import.meta.url).href);
