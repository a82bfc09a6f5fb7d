/**
 * `weft proxy` as a real process: it serves the config file, picks up changes to it (and SIGHUP),
 * keeps the last good config when the file turns bad, and on SIGTERM finishes the request in
 * flight before it exits 0.
 */
import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyConfig } from '../proxy-config/index.js';
import { startUpstream, send, spawnProxy, type ProxyProcess, type TestUpstream } from './test-kit.js';
import { cluster, endpoints, forward, httpListener, proxyConfig, route, vhost } from './test-config.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'weft-proxy-cli-'));

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFor(target: TestUpstream, version: string): ProxyConfig {
  return proxyConfig({
    version,
    listeners: [httpListener('0.0.0.0_80', 'gateway', 80, 'http.80')],
    routes: [{ name: 'http.80', virtualHosts: [vhost('all', ['*'], [route('all', {}, forward('c'))])] }],
    clusters: [cluster('c')],
    endpoints: [endpoints('c', [target.port])],
  });
}

/** Writes the file the way tools replace it: a new file renamed over the old one. */
function writeConfig(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, typeof value === 'string' ? value : JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
}

function startCli(t: TestContext, configPath: string): Promise<ProxyProcess> {
  return spawnProxy(t, main, ['--config', configPath, '--prometheus-port', '0', '--status-port', '0', '--bind', '127.0.0.1', '--admin-port', '0', '--health-port', '0', '--port-map', '80=0', '--drain-timeout', '5s']);
}

async function eventually(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('serves the file, reloads on change and SIGHUP, keeps the last good config, drains on SIGTERM', async (t) => {
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  let release: () => void = () => {};
  b.handle((req, res) => {
    if (req.url === '/long') release = () => res.end('long-done');
    else res.end('b');
  });
  const path = join(dir, 'proxy.json');
  writeConfig(path, configFor(a, '1'));
  const cli = await startCli(t, path);
  const port = cli.ports['gateway:80'];
  assert.ok(port);
  try {
    assert.equal((await send(port)).body, 'a');
    assert.equal((await send(cli.ports.health ?? 0, { path: '/healthz/ready' })).status, 200);

    writeConfig(path, configFor(b, '2'));
    await eventually(async () => (await send(port)).body === 'b');

    writeConfig(path, '{ not json');
    await eventually(async () => cli.stderr().includes('config rejected'));
    writeConfig(path, { ...configFor(a, '3'), clusters: [] });
    await eventually(async () => /cluster .*c.* does not exist/.test(cli.stderr()));
    assert.equal((await send(port)).body, 'b', 'the last good config still serves');

    // SIGHUP re-reads the file even when nothing changed on disk.
    writeConfig(path, configFor(b, '4'));
    await eventually(async () => JSON.parse((await send(cli.ports.admin ?? 0, { path: '/config_dump' })).body).version === '4');
    const before = (cli.stderr().match(/config applied/g) ?? []).length;
    cli.child.kill('SIGHUP');
    await eventually(async () => (cli.stderr().match(/config applied/g) ?? []).length > before);

    const long = send(port, { path: '/long' });
    await eventually(async () => b.received.some((r) => r.url === '/long'));
    cli.child.kill('SIGTERM');
    await eventually(async () => cli.stderr().includes('draining'));
    await assert.rejects(send(port, { path: '/late' }), /ECONNREFUSED/);
    release();
    assert.equal((await long).body, 'long-done');
    assert.equal(await cli.exited, 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
