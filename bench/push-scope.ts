/**
 * Scoped pushes: the real control plane (registry, compiler, push server) with 1,000 connected
 * proxies (real DiscoveryClients over HTTP/2 in a child process), 100 namespaces of 10 pods. One
 * change touches one namespace; the table compares recompiling only the proxies it can affect
 * (compiler/dependencies.ts, the default) with recompiling every proxy (`recompile: 'all'`, how the
 * control plane worked before). Time runs from the change reaching the control plane to
 * quiescence: nothing queued and every pushed config ACKed (the 100 ms debounce included). CPU is
 * the control plane process's (this one), over the same window.
 *
 * Two meshes: `scoped`, where each namespace has a Sidecar narrowing its proxies to itself (what
 * Istio recommends at scale), and `open`, with no Sidecar, where every proxy sees every service.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ControlPlane } from '../src/control-plane/control-plane.js';
import { loadResources, type AnyResource } from '../src/resources/index.js';
import type { ProxyNode } from '../src/proxy-config/index.js';
import type { Row } from './push.js';
import { MemorySource, startClients, until } from './push-clients.js';

const CHILD_FLAG = '--weft-push-scope-clients';
const NAMESPACES = 100;
const PODS = 10;

interface ChildStart { port: number; key: string; count: number }

const ipOf = (ns: number, pod: number) => `10.${100 + Math.floor(ns / 250)}.${ns % 250}.${pod + 1}`;

function nodeOf(i: number): ProxyNode {
  const ns = Math.floor(i / PODS);
  return { id: `app-${i % PODS}.ns-${ns}`, role: 'sidecar', namespace: `ns-${ns}`, workload: 'app', labels: { app: 'app' }, serviceAccount: 'default', ip: ipOf(ns, i % PODS), revision: '' };
}

function podYaml(ns: number, pod: number, ready: boolean): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: app-${pod}, namespace: ns-${ns}, labels: {app: app}}
spec:
  serviceAccountName: default
  containers:
  - {name: app, image: app, ports: [{containerPort: 8080}]}
  - {name: istio-proxy, image: auto}
status:
  phase: Running
  podIP: ${ipOf(ns, pod)}
  conditions: [{type: Ready, status: "${ready ? 'True' : 'False'}"}]
`;
}

function meshYaml(sidecars: boolean): string {
  const docs: string[] = [];
  for (let ns = 0; ns < NAMESPACES; ns++) {
    docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: ns-${ns}}\nspec:\n  selector: {app: app}\n  ports:\n  - {name: http, port: 8000, targetPort: 8080}\n`);
    if (sidecars) docs.push(`apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: ns-${ns}}\nspec:\n  egress:\n  - hosts: ["./*"]\n`);
    for (let pod = 0; pod < PODS; pod++) docs.push(podYaml(ns, pod, true));
  }
  return docs.join('---\n');
}

function load(text: string): AnyResource[] {
  const loaded = loadResources([{ file: 'bench.yaml', text }]);
  if (!loaded.ok) throw new Error(`push-scope bench: mesh does not load: ${loaded.diagnostics[0]?.message ?? ''}`);
  return loaded.resources;
}

interface Scenario { name: string; mesh: 'scoped' | 'open'; change: (base: readonly AnyResource[]) => AnyResource[] }

const [unready] = load(podYaml(7, 3, false));
const [virtualService] = load('apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: app, namespace: ns-7}\nspec:\n  hosts: [app]\n  exportTo: ["."]\n  http:\n  - route: [{destination: {host: app}}]\n    timeout: 2s\n');
const replacePod = (base: readonly AnyResource[]) => base.map((r) => (r.kind === 'Pod' && r.metadata.namespace === 'ns-7' && r.metadata.name === 'app-3' ? unready as AnyResource : r));
const addVs = (base: readonly AnyResource[]) => [...base, virtualService as AnyResource];

const SCENARIOS: Scenario[] = [
  { name: 'pod unready in 1 namespace', mesh: 'scoped', change: replacePod },
  { name: 'VirtualService in 1 namespace', mesh: 'scoped', change: addVs },
  { name: 'VirtualService exportTo "." in 1 namespace', mesh: 'open', change: addVs },
  { name: 'pod unready in 1 namespace', mesh: 'open', change: replacePod },
];

export async function benchPushScope(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const mesh of ['scoped', 'open'] as const) {
    const base = load(meshYaml(mesh === 'scoped'));
    for (const recompile of ['affected', 'all'] as const) {
      const run = await connect(base, recompile);
      try {
        for (const s of SCENARIOS.filter((x) => x.mesh === mesh)) {
          const m = await measure(run, s.change(base));
          await measure(run, base); // back to the base mesh, unmeasured
          rows.push({ name: `${mesh} mesh, ${s.name}, recompile ${recompile}`, values: { proxies: NAMESPACES * PODS, ...m } });
        }
      } finally {
        await run.close();
      }
    }
  }
  return rows;
}

interface Run { cp: ControlPlane; source: MemorySource; close: () => Promise<void> }

async function connect(base: readonly AnyResource[], recompile: 'affected' | 'all'): Promise<Run> {
  const key = randomBytes(32);
  const source = new MemorySource(base);
  const cp = new ControlPlane({ sources: [source], replicaId: 'bench', tokenKey: key, graphScrapeIntervalMs: 0, recompile });
  await cp.start();
  const port = await cp.push.listen(0, '127.0.0.1');
  const count = NAMESPACES * PODS;
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send({ port, key: key.toString('hex'), count } satisfies ChildStart);
  await until(() => cp.push.idle() && cp.proxies().filter((p) => p.state === 'SYNCED').length === count, 'all proxies SYNCED', 120_000, 'push-scope');
  return {
    cp, source,
    close: async () => {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
      await cp.close();
    },
  };
}

async function measure(run: Run, resources: readonly AnyResource[]): Promise<Record<string, number>> {
  const compiles = () => Number(/^weft_proxy_config_compiles (\d+)$/m.exec(run.cp.metrics.render())?.[1] ?? NaN);
  const pushed = new Set<string>();
  const acked = new Set<string>();
  const onPush = (id: string) => pushed.add(id);
  const onAck = (id: string) => acked.add(id);
  run.cp.push.on('pushed', onPush);
  run.cp.push.on('ack', onAck);
  const compilesBefore = compiles();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  run.source.set(resources);
  await until(() => run.cp.push.idle() && [...pushed].every((id) => acked.has(id)), 'quiescence', 60_000, 'push-scope');
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  run.cp.push.off('pushed', onPush);
  run.cp.push.off('ack', onAck);
  return { recompiled: compiles() - compilesBefore, pushed: pushed.size, quiescenceMs: Number(ms.toFixed(1)), serverCpuMs: Number(((cpu.user + cpu.system) / 1000).toFixed(1)) };
}

async function runClients({ port, key, count }: ChildStart): Promise<void> {
  const clients = await startClients(port, key, count, nodeOf);
  process.once('message', () => {
    for (const client of clients) client.stop();
    process.disconnect();
  });
}

if (process.argv.includes(CHILD_FLAG)) {
  process.once('message', (start) => void runClients(start as ChildStart));
}
