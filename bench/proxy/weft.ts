/**
 * Weft's rows: `weft proxy --config FILE.json` as one plaintext proxy (an ingress gateway), and
 * two of them as the mesh path (client sidecar outbound -> server sidecar inbound -> app), in
 * plaintext and with Istio mTLS between the sidecars (certificates from the mesh CA). The
 * CLI is the compiled src/cli/main.js beside this build (dist/ under `npm run bench`); both rows
 * are skipped, saying why, until `main.js proxy --help` lists --config.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProxyConfig } from '../../src/proxy-config/index.js';
import type { Started, Target } from './measure.js';
import { freePort, waitForOutput, type Child, type ProcessGroup } from './processes.js';
import { loadSelfSignedCa } from '../../src/ca/index.js';
import { CLIENT_SERVICE_ACCOUNT, clientSidecarConfig, gatewayConfig, GATEWAY_PORT, SERVER_SERVICE_ACCOUNT, SERVICE_HOST, SERVICE_PORT, serverSidecarConfig, type MeshTls } from './weft-config.js';

/** The CLI entry to run; WEFT_BENCH_MAIN points at another build's main.js (to compare two builds). */
export function weftMain(): string {
  return process.env.WEFT_BENCH_MAIN ?? fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
}

/**
 * What `weft proxy` runs for a build's main.js, as bin/weft.js and the runtime choose it: the
 * bundled proxy entry beside it when that build made one and it is current (WEFT_BENCH_UNBUNDLED=1: main.js).
 */
export function proxyScript(main: string): string {
  const bundle = join(dirname(main), 'proxy-bundle', 'weft-proxy.js');
  const source = join(dirname(main), 'commands', 'proxy-entry.js');
  if (process.env.WEFT_BENCH_UNBUNDLED === '1' || !existsSync(bundle) || !existsSync(source)) return main;
  // A bundle older than the compiled entry is of older code: tsc ran again without the bundle step.
  return statSync(bundle).mtimeMs >= statSync(source).mtimeMs ? bundle : main;
}

/** `undefined` when `weft proxy` is usable, else why not. */
export function weftProxyUnavailable(main = weftMain()): string | undefined {
  const r = spawnSync(process.execPath, [main, 'proxy', '--help'], { encoding: 'utf8', timeout: 15_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) return `weft proxy: ${r.error.message}`;
  // Without a `proxy` command, commander prints the program's help and exits 0, so look for the flag.
  if (r.status !== 0 || !out.includes('--config')) {
    return `\`weft proxy\` not in this build yet (\`node ${main} proxy --help\` lists no --config)`;
  }
  return undefined;
}

interface WeftProcess {
  child: Child;
  /** Bound ports by key, from the proxy's ready line: `gateway:8080`, `outbound`, `inbound`, `inbound-map:N`, `admin`, `health`. */
  ports: Record<string, number>;
}

/**
 * Starts one `weft proxy` on loopback with every port it binds picked by the kernel (or, for the
 * inbound port map, a free port found by binding port 0), and waits for its ready line.
 */
async function startWeft(group: ProcessGroup, main: string, name: string, dir: string, config: ProxyConfig, portFlags: string[]): Promise<WeftProcess> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const args = [proxyScript(main), 'proxy', '--config', file, '--no-watch', '--log-level', 'warn', '--drain-timeout', '1s'];
  args.push('--bind', '127.0.0.1', '--admin-bind', '127.0.0.1', '--admin-port', '0', '--health-port', '0', ...portFlags);
  const child = group.start(name, process.execPath, args);
  try {
    const ready = JSON.parse(await waitForOutput(child, /weft proxy ready (\{.*\})/)) as { version?: string; ports?: Record<string, number> };
    if (ready.version !== config.version) {
      throw new Error(`${name} did not accept its config (serving version ${JSON.stringify(ready.version)}): ${child.stderr().trim().slice(-400)}`);
    }
    return { child, ports: ready.ports ?? {} };
  } catch (e) {
    await group.stop(child);
    throw e;
  }
}

function port(p: WeftProcess, key: string): number {
  const n = p.ports[key];
  if (n === undefined) throw new Error(`${p.child.name} bound no ${key} port (bound: ${JSON.stringify(p.ports)})`);
  return n;
}

/**
 * Weft's two rows for this build; with WEFT_BENCH_BASELINE_MAIN (another build's main.js) two
 * more rows run that build, so a change is measured before and after in one run, back to back.
 */
export function weftTargets(): Target[] {
  const baseline = process.env.WEFT_BENCH_BASELINE_MAIN;
  return [...weftTargetsFor(weftMain(), ''), ...(baseline ? weftTargetsFor(baseline, ' (baseline build)') : [])];
}

function weftTargetsFor(main: string, label: string): Target[] {
  const unavailable = weftProxyUnavailable(main);
  const single: Target = {
    name: `weft${label}`,
    path: 'wrk -> weft proxy (ingress-gateway role) -> upstream',
    hops: 1,
    ...(unavailable ? { unavailable } : {}),
    start: async (group, upstreamPort): Promise<Started> => {
      const { path: dir, remove: cleanup } = group.tempDir('weft-bench-proxy-');
      try {
        const gw = await startWeft(group, main, 'weft-gateway', dir, gatewayConfig(upstreamPort), ['--role', 'ingress-gateway', '--port-map', `${GATEWAY_PORT}=0`]);
        const url = `http://127.0.0.1:${port(gw, `gateway:${GATEWAY_PORT}`)}/`;
        return { url, proxies: [gw.child], note: 'gateway listener', cleanup };
      } catch (e) {
        cleanup();
        throw e;
      }
    },
  };
  return [single, meshTarget(main, label, unavailable, false), meshTarget(main, label, unavailable, true)];
}

/** Workload certificates for both sidecars, issued by a fresh self-signed mesh CA in `dir`. */
function meshCertificates(dir: string): MeshTls {
  const ca = loadSelfSignedCa(join(dir, 'ca'));
  const now = Date.now();
  const issue = (serviceAccount: string) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    const cert = ca.issue(spki, { trustDomain: 'cluster.local', namespace: 'bench', serviceAccount }, new Date(now - 60_000), new Date(now + 3_600_000));
    return { certificateChain: cert.certificateChain, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  };
  return { trustBundle: ca.trustBundle, client: issue(CLIENT_SERVICE_ACCOUNT), server: issue(SERVER_SERVICE_ACCOUNT) };
}

function meshTarget(main: string, label: string, unavailable: string | undefined, mtls: boolean): Target {
  return {
    name: `weft mesh${mtls ? ' (mTLS)' : ''}${label}`,
    path: `wrk -> weft sidecar (outbound) ${mtls ? '-(Istio mTLS)->' : '->'} weft sidecar (inbound) -> upstream`,
    hops: 2,
    ...(unavailable ? { unavailable } : {}),
    start: async (group, upstreamPort): Promise<Started> => {
      const { path: dir, remove: cleanup } = group.tempDir('weft-bench-mesh-');
      try {
        const tls = mtls ? meshCertificates(dir) : undefined;
        // The server sidecar learns the workload port of its inbound traffic from the port map
        // (there is no original-destination capture on loopback), so its bound port is chosen first.
        const inboundPort = await freePort();
        const server = await startWeft(group, main, 'weft-sidecar-server', dir, serverSidecarConfig(upstreamPort, tls), [
          '--role', 'sidecar', '--outbound-port', '0', '--inbound-port', '0', '--inbound-port-map', `${inboundPort}=${SERVICE_PORT}`,
        ]);
        const client = await startWeft(group, main, 'weft-sidecar-client', dir, clientSidecarConfig(port(server, `inbound-map:${inboundPort}`), tls), [
          '--role', 'sidecar', '--outbound-port', '0', '--inbound-port', '0',
        ]).catch(async (e: unknown) => {
          await group.stop(server.child);
          throw e;
        });
        return {
          url: `http://127.0.0.1:${port(client, 'outbound')}/`,
          host: `${SERVICE_HOST}:${SERVICE_PORT}`,
          proxies: [client.child, server.child],
          note: `Host-routed on the outbound port, inbound via port map, ${mtls ? 'ISTIO_MUTUAL (auto mTLS, STRICT inbound)' : 'plaintext'}`,
          cleanup,
        };
      } catch (e) {
        cleanup();
        throw e;
      }
    },
  };
}
