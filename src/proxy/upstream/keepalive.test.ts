/**
 * A cluster's tcpKeepalive on real upstream connections: the kernel's keepalive timer of the
 * proxy's socket, read with `ss -o`, shows the idle time the cluster asked for (HTTP, TCP and TLS
 * connections alike), the OS's own for `{}`, and Weft's minute when the cluster sets none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { TcpKeepalive } from '../../proxy-config/index.js';
import { Upstreams } from './index.js';
import { assignment, cluster, endpoint, readAll, startEchoServer, startUpstream } from './fixtures.js';

function hasTool(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = process.platform !== 'linux' || !hasTool('ss', ['-V']) ? 'needs Linux and ss (iproute2) to read the keepalive timer' : false;

/** Seconds left on the keepalive timer of the connection from local port `port`. */
function keepaliveSeconds(port: number): number {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  // ss prints minutes, seconds and milliseconds as `1min4sec`, `4.996ms` (4 s 996 ms), `996ms`.
  const m = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?,/.exec(out);
  assert.ok(m, `no keepalive timer on the connection from :${port}: ${JSON.stringify(out)}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
}

function osKeepaliveSeconds(): number {
  return Number(readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim());
}

async function httpConnectionPort(t: { after(fn: () => unknown): void }, tcpKeepalive: TcpKeepalive | undefined): Promise<number> {
  let port = 0;
  const up = await startUpstream('a', (req, res) => {
    port = req.socket.remotePort ?? 0;
    res.end('ok');
  });
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), up.close()]));
  upstreams.apply([cluster('c', tcpKeepalive ? { tcpKeepalive } : {})], [assignment('c', [up.endpoint()])]);
  assert.equal(await readAll((await upstreams.send('c', { method: 'GET', path: '/', headers: { host: 'a' }, body: null })).body), 'ok');
  return port;
}

test('HTTP connections: the cluster keepalive time is the idle time before probes', { skip }, async (t) => {
  const left = keepaliveSeconds(await httpConnectionPort(t, { timeMs: 7_000, probes: 3, intervalMs: 2_000 }));
  assert.ok(left > 0 && left <= 7, `keepalive timer ${left}s, expected at most the configured 7s`);
});

test('HTTP connections without a cluster setting keep Weft\'s one-minute keepalive', { skip }, async (t) => {
  const left = keepaliveSeconds(await httpConnectionPort(t, undefined));
  assert.ok(left > 7 && left <= 60, `keepalive timer ${left}s, expected Weft's 60s`);
});

test('TCP proxying: an empty tcpKeepalive turns keepalive on with the OS timings', { skip }, async (t) => {
  const os = osKeepaliveSeconds();
  const echo = await startEchoServer('');
  const upstreams = new Upstreams();
  t.after(() => Promise.all([upstreams.close(), echo.close()]));
  upstreams.apply([cluster('tcp', { protocol: 'tcp', tcpKeepalive: {} })], [assignment('tcp', [echo.endpoint()])]);
  const { socket } = await upstreams.connect('tcp');
  t.after(() => socket.destroy());
  const left = keepaliveSeconds(socket.localPort ?? 0);
  assert.ok(left >= os - 60 && left <= os, `keepalive timer ${left}s, expected the OS's ${os}s`);
});

test('TLS origination: the keepalive reaches the TCP connection under TLS', { skip: skip || (!hasTool('openssl', ['version']) && 'needs openssl') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-keepalive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=upstream', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  const accepted = new Set<tls.TLSSocket>();
  const server = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (s) => void accepted.add(s.on('error', () => {})));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const upstreams = new Upstreams();
  const clients: net.Socket[] = [];
  t.after(async () => {
    for (const s of [...clients, ...accepted]) s.destroy();
    await upstreams.close();
    await new Promise((resolve) => server.close(resolve));
  });
  upstreams.apply([cluster('tls', { protocol: 'tcp', tcpKeepalive: { timeMs: 5_000 }, tls: { mode: 'SIMPLE', sni: 'upstream', insecureSkipVerify: true } })], [assignment('tls', [endpoint(port)])]);
  const { socket } = await upstreams.connect('tls');
  clients.push(socket);
  assert.ok(socket instanceof tls.TLSSocket && socket.encrypted, 'the connection is TLS');
  const left = keepaliveSeconds(socket.localPort ?? 0);
  assert.ok(left > 0 && left <= 5, `keepalive timer ${left}s, expected at most the configured 5s`);
});
