/**
 * Real processes for end-to-end tests: the `weft` CLI from the same build as the test, started
 * with free ports, their `ready` line parsed, their output kept for assertions and failure
 * messages, and every one killed by pid when the test ends, whatever happened.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoPath } from '../lib/repo.js';

// The CLI compiled beside this test, so the test runs exactly the code it was built with.
export const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface Ready {
  pid: number;
  ports: Record<string, number>;
  [key: string]: unknown;
}

export interface WeftProcess {
  name: string;
  child: ChildProcess;
  ready: Promise<Ready>;
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

export class Processes {
  readonly #all: WeftProcess[] = [];

  /** Starts `weft ARGS...`; `ready` resolves with the JSON of its `weft <name> ready {...}` line. */
  start(name: string, args: string[], timeoutMs = 15_000): WeftProcess {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: repoPath(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^weft [\w-]+ ready (\{.*\})$/m.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(JSON.parse(match[1]) as Ready);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}) before it was ready:\n${out}`));
      });
    });
    ready.catch(() => {}); // awaited by the test; never an unhandled rejection when it is not
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const p: WeftProcess = { name, child, ready, output: () => out, exited };
    this.#all.push(p);
    return p;
  }

  /** SIGKILL: what a crash looks like to the others, no goodbye on any socket. */
  async kill(p: WeftProcess): Promise<void> {
    if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined) process.kill(p.child.pid, 'SIGKILL');
    await p.exited;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.#all.map((p) => this.kill(p)));
  }

  /** Every process's output, for a failing test's message. */
  dump(): string {
    return this.#all.map((p) => `----- ${p.name}\n${p.output()}`).join('\n');
  }
}

/**
 * The flags a proxy joins the mesh with: its node written to `<name>.json` and a token for it,
 * minted by `weft control-plane token` from the control plane's `stateDir`, to `<name>.token`.
 */
export function proxyIdentity(dir: string, stateDir: string, name: string, node: { id: string; serviceAccount: string; [key: string]: unknown }): string[] {
  const token = weft('control-plane', 'token', node.id, '--service-account', node.serviceAccount, '--state-dir', stateDir);
  if (token.code !== 0) throw new Error(`weft control-plane token ${node.id} failed (${token.code}): ${token.stderr}`);
  writeFileSync(join(dir, `${name}.token`), token.stdout);
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(node));
  return ['--node', join(dir, `${name}.json`), '--token-file', join(dir, `${name}.token`)];
}

/** Runs `weft ARGS...` to completion. */
export function weft(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: repoPath(), timeout: 15_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A plain HTTP server answering every request with `body`: a workload. */
export async function upstream(body: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** GET on a fresh connection, so each request is independent of the last. */
export function get(url: string, timeoutMs = 3_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await get(url);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as T;
}

/** Polls until `check` returns a value (not undefined), or fails with what it last saw. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The `server-0` pod of the mTLS tests: an app on `appPort` at `podIP`, with a sidecar, ready. */
export function serverPodYaml(appPort: number, podIP: string): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: server-0, namespace: default, labels: {app: server-app}}
spec:
  serviceAccountName: server
  containers:
  - {name: app, image: app, ports: [{containerPort: ${appPort}}]}
  - {name: istio-proxy, image: weft}
status: {phase: Running, podIP: ${podIP}, conditions: [{type: Ready, status: "True"}]}
`;
}

/**
 * `service.mesh.internal` port 80 (HTTP) as a MESH_INTERNAL ServiceEntry, and the WorkloadEntry
 * `workload` behind it at `address:port`; `istioTls`: the workload has a sidecar (tlsMode istio),
 * so auto mTLS applies. Each starts with its `---` separator.
 */
export function meshEntryYaml(o: { service: string; workload: string; address: string; port: number; serviceAccount: string; istioTls: boolean }): string {
  const tls = o.istioTls ? ', security.istio.io/tlsMode: istio' : '';
  return `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${o.service}, namespace: default}
spec:
  hosts: [${o.service}.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 80, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: ${o.workload}}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${o.workload}, namespace: default}
spec: {address: ${o.address}, ports: {http: ${o.port}}, serviceAccount: ${o.serviceAccount}, labels: {app: ${o.workload}${tls}}}
`;
}
