/**
 * Control plane scale grid: how change->ACK time, CPU and memory grow with services x proxies.
 * Each cell is the real control plane (sources, registry, compiler, push server) in a fresh
 * process of its own, so one cell's heap never inflates the next one's RSS, and its proxies are
 * real DiscoveryClients over HTTP/2 on loopback in a second process, one connection each.
 *
 * The mesh is open (no Sidecar): S Services in `default`, each with 2 ready pods, so every proxy's
 * config carries every service and grows with S. The proxies are P sidecars in namespace
 * `clients` with no pods of their own, so adding proxies does not add endpoints and the two axes
 * stay separate. The change is one pod of svc-0 going unready: it changes every proxy's
 * endpoints, so all P proxies are recompiled and pushed. Time runs from the change reaching the
 * control plane to each proxy's ACK, the 100 ms debounce included, as a user would see it.
 * `proxiesCpuMs` is the simulated proxies' process over the same window (parsing what they were
 * sent): it shares this machine's 2 cores with the control plane, as real sidecars would not.
 * Memory: RSS (high-water, keeps the connect burst's buffers) and heap + external after a full GC
 * (what the control plane holds in steady state).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ControlPlane } from '../src/control-plane/control-plane.js';
import { loadResources, type AnyResource } from '../src/resources/index.js';
import type { ProxyNode } from '../src/proxy-config/index.js';
import type { Row } from './push.js';
import { MemorySource, startClients, until } from './push-clients.js';

const CELL_FLAG = '--weft-push-grid-cell';
const CLIENTS_FLAG = '--weft-push-grid-clients';
const PODS_PER_SERVICE = 2;

export const GRID: readonly { services: number; proxies: number }[] = [
  { services: 10, proxies: 100 }, { services: 10, proxies: 1000 }, { services: 10, proxies: 5000 },
  { services: 100, proxies: 100 }, { services: 100, proxies: 1000 },
  { services: 500, proxies: 100 }, { services: 500, proxies: 1000 },
];

interface CellStart { services: number; proxies: number }
interface ClientsStart { port: number; key: string; count: number }
interface ClientsMessage { cpuUs: number }

/** `WEFT_PUSH_GRID=100x1000,500x1000` runs only those cells (services x proxies), to repeat the key ones. */
function selectedGrid(): readonly { services: number; proxies: number }[] {
  const wanted = process.env.WEFT_PUSH_GRID;
  if (!wanted) return GRID;
  return wanted.split(',').map((cell) => {
    const [services, proxies] = cell.split('x').map(Number);
    if (!Number.isInteger(services) || !Number.isInteger(proxies)) throw new Error(`push-grid bench: WEFT_PUSH_GRID cell ${JSON.stringify(cell)} is not SERVICESxPROXIES`);
    return { services: services as number, proxies: proxies as number };
  });
}

/** Runs every cell, one fresh process each (describeGrowth reads the rows). */
export async function benchPushGrid(grid = selectedGrid()): Promise<Row[]> {
  const rows: Row[] = [];
  for (const cell of grid) rows.push(await runInChild<Row>(CELL_FLAG, cell));
  return rows;
}

/**
 * How each measure grows, as marginal costs between grid points rather than totals divided by
 * proxies (which hide a fixed overhead): memory per added proxy at a fixed service count, and
 * config size, CPU and latency per added service at a fixed proxy count.
 */
export function describeGrowth(rows: readonly Row[]): string {
  const num = (r: Row, k: string) => Number(r.values[k]);
  const lines: string[] = [];
  const slopes = (axis: 'services' | 'proxies', measures: { key: string; unit: string; scale: number }[]) => {
    const other = axis === 'services' ? 'proxies' : 'services';
    for (const fixed of [...new Set(rows.map((r) => num(r, other)))]) {
      const sorted = rows.filter((r) => num(r, other) === fixed).sort((a, b) => num(a, axis) - num(b, axis));
      if (sorted.length < 2) continue;
      const steps = sorted.slice(1).map((hi, i) => {
        const lo = sorted[i] as Row;
        const d = num(hi, axis) - num(lo, axis);
        const parts = measures.map((m) => {
          const slope = ((num(hi, m.key) - num(lo, m.key)) * m.scale) / d;
          return `${m.key} ${slope >= 0 ? '+' : ''}${slope.toFixed(m.scale >= 1000 ? 1 : 2)} ${m.unit}`;
        });
        return `${num(lo, axis)}->${num(hi, axis)}: ${parts.join(', ')}`;
      });
      lines.push(`- ${other}=${fixed}, per added ${axis === 'services' ? 'service' : 'proxy'}: ${steps.join('; ')}`);
    }
  };
  slopes('proxies', [{ key: 'rssMiB', unit: 'KiB', scale: 1024 }, { key: 'heapMiB', unit: 'KiB', scale: 1024 }, { key: 'changeCpuMs', unit: 'ms', scale: 1 }, { key: 'p99Ms', unit: 'ms', scale: 1 }]);
  slopes('services', [{ key: 'configKiB', unit: 'KiB', scale: 1 }, { key: 'cpuPerProxyUs', unit: 'us', scale: 1 }, { key: 'rssMiB', unit: 'KiB', scale: 1024 }, { key: 'heapMiB', unit: 'KiB', scale: 1024 }, { key: 'p99Ms', unit: 'ms', scale: 1 }]);
  return lines.join('\n');
}

function runInChild<T>(flag: string, start: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [flag], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: T | undefined;
    child.once('message', (m) => { result = m as T; });
    child.once('error', reject);
    child.once('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`push-grid bench: cell ${JSON.stringify(start)} exited ${code ?? 'by signal'} without a result`))));
    child.send(start);
  });
}

const podIp = (svc: number, pod: number) => `10.${Math.floor(svc / 250)}.${svc % 250}.${pod + 1}`;

function podYaml(svc: number, pod: number, ready: boolean): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: svc-${svc}-${pod}, namespace: default, labels: {app: svc-${svc}}}
spec:
  serviceAccountName: svc-${svc}
  containers:
  - {name: app, image: app, ports: [{containerPort: 8080}]}
  - {name: istio-proxy, image: auto}
status:
  phase: Running
  podIP: ${podIp(svc, pod)}
  conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]
`;
}

function meshYaml(services: number): string {
  const docs: string[] = [];
  for (let s = 0; s < services; s++) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${s}, namespace: default}\nspec:\n  selector: {app: svc-${s}}\n  ports:\n  - {name: http, port: 8000, targetPort: 8080}\n`);
    for (let p = 0; p < PODS_PER_SERVICE; p++) docs.push(podYaml(s, p, true));
  }
  return docs.join('---\n');
}

function load(text: string): AnyResource[] {
  const loaded = loadResources([{ file: 'bench.yaml', text }]);
  if (!loaded.ok) throw new Error(`push-grid bench: mesh does not load: ${loaded.diagnostics[0]?.message ?? ''}`);
  return loaded.resources;
}

function nodeOf(i: number): ProxyNode {
  return { id: `client-${i}.clients`, role: 'sidecar', namespace: 'clients', workload: `client-${i}`, labels: { app: `client-${i}` }, serviceAccount: 'default', ip: '127.0.0.1', revision: '' };
}

/** Heap after a full collection is the steady state; RSS alone keeps whatever the connect burst grew. */
function heapNow(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const round = (n: number, digits = 1): number => Number(n.toFixed(digits));

async function runCell({ services, proxies }: CellStart): Promise<Row> {
  const base = load(meshYaml(services));
  const [unready] = load(podYaml(0, 0, false));
  const changed = base.map((r) => (r.kind === 'Pod' && r.metadata.name === 'svc-0-0' ? unready as AnyResource : r));
  const key = randomBytes(32);
  const source = new MemorySource(base);
  const cp = new ControlPlane({ sources: [source], replicaId: 'bench', tokenKey: key, graphScrapeIntervalMs: 0 });
  await cp.start();
  const port = await cp.push.listen(0, '127.0.0.1');
  const rssBefore = process.memoryUsage().rss;

  const connectStart = performance.now();
  const child = fork(fileURLToPath(import.meta.url), [CLIENTS_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const clientCpu: number[] = [];
  child.on('message', (m: ClientsMessage) => clientCpu.push(m.cpuUs));
  const askClientCpu = async () => {
    const n = clientCpu.length;
    child.send('cpu');
    await until(() => clientCpu.length > n, 'the proxies\' CPU', 10_000, 'push-grid');
    return clientCpu[n] as number;
  };
  child.send({ port, key: key.toString('hex'), count: proxies } satisfies ClientsStart);
  await until(() => cp.push.idle() && cp.proxies().filter((p) => p.state === 'SYNCED').length === proxies, 'all proxies SYNCED', 180_000, 'push-grid');
  const connectMs = performance.now() - connectStart;
  const rssConnected = process.memoryUsage().rss;
  const heapConnected = heapNow();

  const clientCpuBefore = await askClientCpu();
  const acks: number[] = [];
  const pushed = new Set<string>();
  cp.push.on('pushed', (id) => pushed.add(id));
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  cp.push.on('ack', () => acks.push(performance.now() - start));
  source.set(changed);
  await until(() => cp.push.idle() && acks.length >= proxies, 'all ACKs', 180_000, 'push-grid');
  const changeCpuUs = cpuUs(process.cpuUsage(cpuBefore));
  const clientChangeCpuUs = (await askClientCpu()) - clientCpuBefore;
  acks.sort((a, b) => a - b);
  const configBytes = Buffer.byteLength(JSON.stringify(cp.configDump(nodeOf(0).id)));

  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  await cp.close();
  if (pushed.size !== proxies) throw new Error(`push-grid bench: the change reached ${pushed.size} of ${proxies} proxies`);
  return {
    name: `${services} services x ${proxies} proxies`,
    values: {
      services, proxies,
      configKiB: round(configBytes / 1024),
      p50Ms: round(percentile(acks, 50)),
      p99Ms: round(percentile(acks, 99)),
      changeCpuMs: round(changeCpuUs / 1000, 0),
      cpuPerProxyUs: round(changeCpuUs / proxies, 0),
      proxiesCpuMs: round(clientChangeCpuUs / 1000, 0),
      connectAllMs: round(connectMs, 0),
      rssMiB: round(rssConnected / 2 ** 20),
      rssPerProxyKiB: round((rssConnected - rssBefore) / 1024 / proxies),
      heapMiB: round(heapConnected / 2 ** 20, 2),
    },
  };
}

const cpuUs = (u: NodeJS.CpuUsage): number => u.user + u.system;

/** The proxies: started in waves of 250 so the listen backlog is never flooded. */
async function runClients({ port, key, count }: ClientsStart): Promise<void> {
  const clients = await startClients(port, key, count, nodeOf);
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ cpuUs: u.user + u.system } satisfies ClientsMessage);
      return;
    }
    for (const client of clients) client.stop();
    process.disconnect();
  });
}

if (process.argv.includes(CLIENTS_FLAG)) {
  process.once('message', (start) => void runClients(start as ClientsStart));
}
if (process.argv.includes(CELL_FLAG)) {
  process.once('message', (start) => {
    runCell(start as CellStart).then(
      (row) => process.send?.(row, () => process.disconnect()),
      (error: unknown) => { process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`); process.exitCode = 1; process.disconnect(); },
    );
  });
}
