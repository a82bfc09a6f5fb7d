/**
 * The proxy's own entry: its flag reader gives what commander gives for every flag, leaves help
 * and errors to commander (same output, same exit code), and the bundle (built here into a temp
 * folder beside the CLI, as the build does) serves a config while loading neither commander nor
 * the ~110 modules of the unbundled proxy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { PROXY_OPTIONS } from './proxy.js';
import { readProxyFlags } from './proxy-flags.js';
import { bundleProxy, PROXY_BUNDLE_ENTRY } from './proxy-bundle.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from '../../proxy/test-config.js';
import { send, spawnProxy, startUpstream } from '../../proxy/test-kit.js';

const CLI_DIR = fileURLToPath(new URL('../', import.meta.url));
const MAIN = join(CLI_DIR, 'main.js');
const ENTRY = fileURLToPath(new URL('./proxy-entry.js', import.meta.url));

function commanderFlags(args: string[]): Record<string, unknown> {
  const program = new Command('weft').exitOverride();
  let got: Record<string, unknown> = {};
  const command = program.command('proxy').exitOverride().action((flags: Record<string, unknown>) => {
    got = { ...flags };
  });
  for (const [flags, description, fallback] of PROXY_OPTIONS) command.option(flags, description, fallback);
  program.parse(['proxy', ...args], { from: 'user' });
  return got;
}

test('reads every flag as commander does', () => {
  const every = PROXY_OPTIONS.flatMap(([flags]) => {
    const [name = '', value] = flags.split(' ');
    return value === undefined ? [name] : [name, `v-${name.slice(2)}`];
  });
  const cases: string[][] = [
    [],
    every,
    ['--config=/etc/weft/proxy.json', '--log-level', 'debug', '--no-watch'],
    ['--config', 'a.json', '--config', 'b.json'],
    ['--config', '--no-watch'], // a required value is the next argument, whatever it looks like
    ['--port-map', '', '--bind=', '--role', 'sidecar'],
  ];
  for (const args of cases) assert.deepEqual(readProxyFlags(args), commanderFlags(args), args.join(' '));
});

test('leaves help, unknown flags, missing values and operands to commander', () => {
  for (const args of [['--help'], ['-h'], ['--bogus'], ['--config'], ['serve'], ['--no-watch=1'], ['--config', 'a', '--'], ['--version']]) {
    assert.equal(readProxyFlags(args), undefined, args.join(' '));
  }
});

test('the bundle: same help and errors as `weft proxy`, serves a config, loads no CLI code', async (t) => {
  // Beside main.js as in a build, so its fallback to the CLI finds ../main.js.
  const outDir = mkdtempSync(join(CLI_DIR, 'proxy-bundle-test-'));
  const work = mkdtempSync(join(tmpdir(), 'weft-proxy-entry-'));
  t.after(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  const files = await bundleProxy(outDir);
  assert.ok(files.some((f) => f.name.endsWith(PROXY_BUNDLE_ENTRY)));
  const bundle = join(outDir, PROXY_BUNDLE_ENTRY);

  for (const args of [['--help'], ['--bogus'], ['--config'], ['--role', 'router', '--config', 'x.json']]) {
    const want = spawnSync(process.execPath, [MAIN, 'proxy', ...args], { encoding: 'utf8', timeout: 15_000 });
    for (const script of [bundle, ENTRY]) {
      const got = spawnSync(process.execPath, [script, 'proxy', ...args], { encoding: 'utf8', timeout: 15_000 });
      assert.equal(got.stdout, want.stdout, `${script} ${args.join(' ')}`);
      assert.equal(got.stderr, want.stderr, `${script} ${args.join(' ')}`);
      assert.equal(got.status, want.status, `${script} ${args.join(' ')}`);
    }
  }

  const up = await startUpstream('up');
  t.after(() => up.close());
  const configPath = join(work, 'proxy.json');
  writeFileSync(configPath, JSON.stringify(proxyConfig({
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward('c'))])] }],
    clusters: [cluster('c')],
    endpoints: [endpoints('c', [up.port])],
  })));
  // Every module the process resolves, written down by a resolve hook.
  const log = join(work, 'resolved.txt');
  writeFileSync(join(work, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
  writeFileSync(join(work, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(new URL(`file://${join(work, 'hooks.mjs')}`).href)});\n`);
  const proxy = await spawnProxy(t, bundle, ['--config', configPath, '--bind', '127.0.0.1', '--admin-port', '0', '--health-port', '0', '--prometheus-port', '0', '--status-port', '0', '--port-map', '80=0'], ['--import', join(work, 'register.mjs')]);
  const port = proxy.ports['gateway:80'];
  assert.ok(port);
  assert.equal((await send(port)).body, 'up');
  proxy.child.kill('SIGTERM');
  await proxy.exited;

  const ours = readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:') && !u.includes('/register.mjs'));
  assert.deepEqual(ours.filter((u) => u.includes('node_modules')), [], 'no npm package for a plain config');
  assert.ok(ours.every((u) => u.startsWith(new URL(`file://${outDir}/`).href)), `only the bundle's files: ${ours.join(' ')}`);
  assert.ok(ours.length <= 6, `a few files, not ~110 modules: ${ours.length}`);
});
