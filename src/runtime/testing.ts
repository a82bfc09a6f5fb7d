/**
 * For the runtime's tests: a real daemon (`weft up --foreground`) in a temp WEFT_HOME, the CLI
 * run against it, and cleanup that leaves no process behind whatever the test did: the daemon is
 * asked to stop (it stops every pod), then killed, then any container it recorded is killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { RuntimeClient } from './client.js';
import { weftHome } from './home.js';

export const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class TestMesh {
  readonly home = mkdtempSync(join(tmpdir(), 'weft-runtime-test-'));
  daemon: ChildProcess | undefined;
  #output = '';

  /** The daemon's API in-process: polling through the CLI would start a Node.js per poll. */
  get api(): RuntimeClient {
    return new RuntimeClient(weftHome({ WEFT_HOME: this.home }));
  }

  async pods(namespace: string): Promise<PodItem[]> {
    return (await this.api.request<{ items: PodItem[] }>('GET', `/objects?kind=Pod&namespace=${namespace}`)).items;
  }

  /** `weft ARGS` against this home. */
  weft(...args: string[]): CliResult {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, WEFT_HOME: this.home }, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  json<T>(...args: string[]): T {
    const r = this.weft(...args);
    if (r.code !== 0) throw new Error(`weft ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** Starts the daemon in the foreground (as a child) and waits for its ready line. */
  async start(...args: string[]): Promise<void> {
    // Plain networking unless a test asks for netns: `auto` would pick netns when root.
    const network = args.includes('--network') ? [] : ['--network', 'plain'];
    const child = spawn(process.execPath, [CLI, 'up', '--foreground', '--no-install', '--no-wait', '--ingress-http-port', '0', '--ingress-https-port', '0', ...network, ...args], {
      env: { ...process.env, WEFT_HOME: this.home }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon not ready:\n${this.#output}`)), 20_000);
      const onData = (c: Buffer) => {
        this.#output += c.toString();
        if (/^weft runtime ready /m.test(this.#output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code}):\n${this.#output}`));
      });
    });
  }

  output(): string {
    return this.#output;
  }

  /** SIGKILL the daemon: a crash, leaving its socket, lock and containers behind. */
  async crash(): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill('SIGKILL');
    await exited;
  }

  /** Stops the daemon gracefully (SIGTERM), waiting for it to exit. */
  async stop(): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    const timer = setTimeout(() => d.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  async cleanup(): Promise<void> {
    await this.stop();
    killRecorded(join(this.home, 'runtime.pids'));
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Kills every process group the daemon recorded (only matters when a test crashed it). */
export function killRecorded(pidsFile: string): void {
  if (!existsSync(pidsFile)) return;
  for (const line of readFileSync(pidsFile, 'utf8').split('\n')) {
    const pid = Number(line);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Polls until `check` returns a value (not undefined). */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function httpGet(url: string, options: { proxy?: string; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const via = options.proxy ? new URL(options.proxy) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.get({
      host: via?.hostname ?? target.hostname, port: via?.port ?? target.port, path: via ? url : `${target.pathname}${target.search}`,
      headers: { host: target.host }, agent: false, timeout: options.timeoutMs ?? 5_000,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export interface PodItem {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { containers: { name: string; args?: string[]; resources?: { limits?: Record<string, string> } }[] };
  status: { phase: string; podIP?: string; containerStatuses?: { name: string; ready: boolean; restartCount: number; containerID?: string }[] };
}

export function readyCount(p: PodItem): string {
  const cs = p.status.containerStatuses ?? [];
  return `${cs.filter((c) => c.ready).length}/${p.spec.containers.length}`;
}

/**
 * A tiny injected app for runtime tests: namespace `shop` (injection on), Service and Deployment
 * `hello` answering `hello from <pod> proto=<x-forwarded-proto>`, routed from the ingress gateway
 * by Gateway `web` and VirtualService `hello`. Writes its server into `dir`; returns the YAML.
 */
export function helloApp(dir: string, replicas = 1): string {
  const server = join(dir, 'hello-server.js');
  writeFileSync(server, `require('http').createServer((q, s) => s.end('hello from ' + process.env.POD + ' proto=' + q.headers['x-forwarded-proto'])).listen(9080, process.env.WEFT_BIND_ADDRESS);`);
  return `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: shop}
spec:
  selector: {app: hello}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: shop}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers:
      - name: hello
        image: node
        command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(server)}]
        env:
        - name: POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        ports: [{containerPort: 9080}]
        readinessProbe: {httpGet: {path: /, port: 9080}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: hello, namespace: shop}
spec:
  hosts: ["*"]
  gateways: [web]
  http:
  - route:
    - destination: {host: hello.shop.svc.cluster.local, port: {number: 9080}}
`;
}

/**
 * Namespace istio-system and an `istiod` Deployment running `weft control-plane` with `args`,
 * ready on its monitoring port; `revision` labels the pod istio.io/rev. Returns the YAML, ending
 * in a `---` so more documents can follow.
 */
export function istiodManifests(args: readonly string[], options: { revision?: string } = {}): string {
  const labels = options.revision ? `{app: istiod, istio.io/rev: ${options.revision}}` : '{app: istiod}';
  return `apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: ${labels}}
    spec:
      containers:
      - name: discovery
        image: weft
        command: [weft, control-plane]
        args: [${args.map((a) => JSON.stringify(a)).join(', ')}]
        readinessProbe: {httpGet: {path: /ready, port: 15014}}
---
`;
}

/**
 * A daemon started for one test (`daemonArgs` for `weft up`), cleaned up after it, with
 * `manifests(home)` applied; throws with the CLI's stderr if the apply fails.
 */
export async function startMeshWith(t: { after(fn: () => unknown): void }, manifests: (home: string) => string, ...daemonArgs: string[]): Promise<TestMesh> {
  const mesh = new TestMesh();
  t.after(() => mesh.cleanup());
  await mesh.start(...daemonArgs);
  const applied = mesh.weft('apply', '-f', manifests(mesh.home));
  if (applied.code !== 0) throw new Error(`weft apply failed (${applied.code}): ${applied.stderr}`);
  return mesh;
}
