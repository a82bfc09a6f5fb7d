// Builds native/build/weft_native.node (the original-destination addon, see original_dst.c) at
// `npm install`. It never fails the install: without a compiler or Node's headers the addon is
// simply absent, plain network mode works, and netns mode says why it cannot run.
// Order: the C compiler directly against the headers Node ships (no Python, no download), then
// node-gyp (which may download headers) when that is not possible.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'weft_native.node');
const source = join(here, 'original_dst.c');

function say(text) {
  process.stderr.write(`weft native addon: ${text}\n`);
}

function run(command, args, cwd = here) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (r.error) return `${command}: ${r.error.code === 'ENOENT' ? 'not installed' : r.error.message}`;
  if (r.status !== 0) return `${command} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

// Node's own prefix first: its headers match the running binary.
const prefix = [join(dirname(process.execPath), '..'), '/usr', '/usr/local'].find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));

function withCompiler() {
  const headers = prefix && join(prefix, 'include', 'node');
  if (!headers) return "Node's headers (node_api.h) not found beside the node binary";
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  return run(cc, ['-O2', '-Wall', '-shared', '-fPIC', `-I${headers}`, '-o', out, source]);
}

function withNodeGyp() {
  const gyp = process.env.npm_config_node_gyp || join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(gyp)) return 'node-gyp not found';
  const failed = run(process.execPath, [gyp, 'rebuild', ...(prefix ? [`--nodedir=${prefix}`] : [])]);
  if (failed) return failed;
  const built = join(here, 'build', 'Release', 'weft_native.node');
  if (!existsSync(built)) return `node-gyp built nothing at ${built}`;
  mkdirSync(dirname(out), { recursive: true });
  return run('cp', [built, out]);
}

function loads() {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(out)}).originalDestination`], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `built but does not load: ${r.stderr.trim().split('\n')[0]}`;
}

if (process.platform !== 'linux') {
  say(`skipped on ${process.platform} (netns mode is Linux only)`);
} else {
  const problems = [];
  // WEFT_NATIVE_BUILDER=node-gyp (or cc) forces one way, to check each works.
  const builders = { cc: [withCompiler], 'node-gyp': [withNodeGyp] }[process.env.WEFT_NATIVE_BUILDER ?? ''] ?? [withCompiler, withNodeGyp];
  for (const attempt of builders) {
    const failed = attempt() ?? loads();
    if (!failed) {
      say(`built ${out}`);
      problems.length = 0;
      break;
    }
    problems.push(failed);
    rmSync(out, { force: true });
  }
  if (problems.length > 0) say(`not built (netns network mode will be unavailable; plain mode works): ${problems.join('; ')}`);
}
