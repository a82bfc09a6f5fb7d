/**
 * The dashboard's graph page with a large mesh's telemetry (issue #9: 100 services and 300 edges
 * render in under 1 s and stay responsive), in Debian's Chromium: time from navigation to the
 * first laid-out drawing, the cost of one live update from the event stream, and a click on an
 * edge until its details show; and the size of the page's bundle (Preact, uPlot and cytoscape,
 * built by `npm run build`). The graph is synthetic (seeded), in the control plane's JSON shape.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DashboardServer } from '../src/dashboard/index.js';
import { BUNDLE_DIR } from '../src/dashboard/bundle.js';
import type { GraphEdge, GraphNode, ServiceGraph } from '../src/telemetry/graph/index.js';
import { seededRandom } from '../src/lib/random.js';

const CHROMIUM = '/usr/bin/chromium';
const LOADS = 3;

/** 100 services in 5 namespaces, a workload each (a fifth with a v2 too), 300 edges in all. */
export function syntheticGraph(random: () => number, services = 100, edges = 300): ServiceGraph {
  const nodes: GraphNode[] = [{ id: 'workload/istio-system/istio-ingressgateway', kind: 'gateway', namespace: 'istio-system', name: 'istio-ingressgateway' }];
  const out: GraphEdge[] = [];
  const edge = (source: string, target: string): void => {
    const requestRate = 0.5 + random() * 20;
    out.push({ id: `${source} -> ${target}`, source, target, protocol: random() < 0.1 ? 'grpc' : 'http', requestRate, errorRate: random() < 0.1 ? random() * 0.2 : 0, p50Ms: 2 + random() * 10, p99Ms: 20 + random() * 200, responses: { 200: requestRate }, mtls: true, mtlsPercent: 100 });
  };
  const workloads: string[] = [];
  const serviceIds: string[] = [];
  for (let i = 0; i < services; i++) {
    const ns = `team-${i % 5}`;
    const app = `svc-${i}`;
    const service = `service/${ns}/${app}`;
    serviceIds.push(service);
    nodes.push({ id: service, kind: 'service', namespace: ns, name: app, service: `${app}.${ns}.svc.cluster.local` });
    for (const version of i % 5 === 0 ? ['v1', 'v2'] : ['v1']) {
      const id = `workload/${ns}/${app}-${version}`;
      nodes.push({ id, kind: 'workload', namespace: ns, name: `${app}-${version}`, app, version, workload: `${app}-${version}` });
      workloads.push(id);
      edge(service, id);
    }
  }
  for (let i = 0; i < 5; i++) edge('workload/istio-system/istio-ingressgateway', serviceIds[i * 20] ?? '');
  const seen = new Set(out.map((e) => e.id));
  while (out.length < edges) {
    const source = workloads[Math.floor(random() * workloads.length)] ?? '';
    const target = serviceIds[Math.floor(random() * serviceIds.length)] ?? '';
    if (source.includes(target.split('/')[2] ?? '') || seen.has(`${source} -> ${target}`)) continue;
    seen.add(`${source} -> ${target}`);
    edge(source, target);
  }
  return { generatedAt: new Date().toISOString(), window: '60s', windowSeconds: 60, nodes, edges: out, proxies: { scraped: workloads.length, failing: [] } };
}

export async function benchDashboard(): Promise<string> {
  if (!existsSync(CHROMIUM)) return `skipped: ${CHROMIUM} is missing`;
  const random = seededRandom(9);
  const graph = syntheticGraph(random);
  // Every call jitters the rates, so the event stream has an update to send each second.
  const server = new DashboardServer({
    port: 0,
    liveIntervalMs: 1000,
    data: {
      replica: 'bench', resources: () => [], proxies: () => [], configDump: () => undefined,
      graph: () => ({ ...graph, edges: graph.edges.map((e) => ({ ...e, requestRate: (e.requestRate ?? 0) * (0.9 + random() * 0.2) })) }),
    },
  });
  const port = await server.listen();
  const profile = mkdtempSync(join(tmpdir(), 'weft-bench-chromium-'));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const rows: Record<string, number[]> = { 'first drawing, from navigation (ms)': [], 'one live update (ms)': [], 'click on an edge until its details show (ms)': [] };
  try {
    for (let i = 0; i < LOADS; i++) {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/#/graph`);
      type Timings = { firstRenderMs: number; updates: number; lastUpdateMs: number };
      const timings = () => page.evaluate(() => (globalThis as unknown as { weftGraphTimings?: Timings }).weftGraphTimings);
      await page.waitForFunction(() => (globalThis as unknown as { weftGraphTimings?: Timings }).weftGraphTimings !== undefined, undefined, { timeout: 30_000 });
      rows['first drawing, from navigation (ms)']?.push((await timings())?.firstRenderMs ?? NaN);
      await page.waitForFunction(() => ((globalThis as unknown as { weftGraphTimings?: Timings }).weftGraphTimings?.updates ?? 0) >= 2, undefined, { timeout: 30_000 });
      rows['one live update (ms)']?.push((await timings())?.lastUpdateMs ?? NaN);
      const point = await page.evaluate(() => {
        const cy = (globalThis as unknown as { weftGraph: { edges(): { first(): { renderedMidpoint(): { x: number; y: number } } } } }).weftGraph;
        const doc = (globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number } } | null } }).document;
        const box = doc.getElementById('graph')?.getBoundingClientRect() ?? { left: 0, top: 0 };
        const mid = cy.edges().first().renderedMidpoint();
        return { x: box.left + mid.x, y: box.top + mid.y };
      });
      const clicked = performance.now();
      await page.mouse.click(point.x, point.y);
      await page.locator('#details[data-selected]').waitFor({ timeout: 10_000 });
      rows['click on an edge until its details show (ms)']?.push(performance.now() - clicked);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const size = (name: string) => {
    const body = readFileSync(join(BUNDLE_DIR, name));
    return `${name} ${(body.length / 1024).toFixed(1)} KiB (${(gzipSync(body).length / 1024).toFixed(1)} KiB gzipped)`;
  };
  return [
    `${graph.nodes.filter((n) => n.kind === 'service').length} services, ${graph.nodes.length} nodes, ${graph.edges.length} edges; median of ${LOADS} page loads (target: first drawing under 1000 ms)`,
    '',
    '| measure | ms |',
    '|---|---:|',
    ...Object.entries(rows).map(([name, xs]) => `| ${name} | ${median(xs).toFixed(0)} |`),
    '',
    `Bundle: ${size('app.js')}, ${size('app.css')}.`,
  ].join('\n');
}
