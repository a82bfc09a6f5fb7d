/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
 * mesh: the local runtime with the demo profile and the demo app, traffic sent through the
 * ingress gateway, and Istio's fault-injection sample making productpage -> details fail. The
 * graph shows the demo's nodes and edges with their protocol and rates, the failing edge its
 * error rate, a click on an edge opens its details with its charts over time and a link to the
 * traces of exactly that pair, a trace opens as a waterfall with the trace
 * store's parent/child structure, and the workloads view matches `weft get pods -A`.
 * Each test saves a screenshot (kept in $WEFT_TEST_SCREENSHOTS when set, else in a temp folder
 * removed afterwards).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { TestMesh, until } from '../runtime/testing.js';
import type { RuntimeStatus } from '../runtime/status.js';
import { sharedPath } from '../lib/repo.js';
import { inBatches, send } from '../e2e/bookinfo-client.js';
import type { ServiceGraph } from '../telemetry/graph/index.js';
import type { Span } from '../telemetry/index.js';
import { DETAILS_UNAVAILABLE } from '../demo/page.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; CI installs it)`;

const EXPECTED_EDGES = [
  'workload/istio-system/istio-ingressgateway -> service/default/productpage',
  'service/default/productpage -> workload/default/productpage-v1',
  'workload/default/productpage-v1 -> service/default/reviews',
  'service/default/reviews -> workload/default/reviews-v1',
  'workload/default/reviews-v2 -> service/default/ratings',
  'service/default/ratings -> workload/default/ratings-v1',
];

/** productpage -> details, failing under the fault (the target's id is the graph's business). */
const isFailingDetails = (key: string) => /^workload\/default\/productpage-v1 -> service\/.*details/.test(key);

describe('the dashboard in Chromium against the demo mesh', { skip, timeout: 180_000 }, () => {
  const mesh = new TestMesh();
  const keep = process.env.WEFT_TEST_SCREENSHOTS;
  const shots = keep ?? mkdtempSync(join(tmpdir(), 'weft-dashboard-shots-'));
  let browser: BrowserContext;
  let page: Page;
  let dashboard: string;
  let ingress: string;
  let profile: string | undefined;

  const screenshot = async (name: string) => {
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };

  before(async () => {
    await mesh.start();
    const up = mesh.weft('up', '--demo', '--timeout', '90');
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}\n${mesh.output()}`);
    const fault = mesh.weft('apply', '-f', sharedPath('istio-samples', 'bookinfo-networking', 'fault-injection-details-v1.yaml'));
    assert.equal(fault.code, 0, fault.stderr);
    const status = mesh.json<RuntimeStatus>('status', '-o', 'json');
    assert.ok(status.dashboard && status.ingress.http, JSON.stringify(status));
    dashboard = status.dashboard;
    ingress = status.ingress.http;
    const printed = mesh.weft('dashboard');
    assert.equal(printed.stdout.trim(), dashboard, '`weft dashboard` prints what `weft status -o json` names');
    // Until the fault reaches productpage's sidecar, details answers 200: send until it fails.
    await until('the details fault in force', async () => ((await send(`${ingress}/productpage`)).body.includes(DETAILS_UNAVAILABLE) ? true : undefined), 30_000);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'weft-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
  });

  after(async () => {
    await browser?.close();
    await mesh.cleanup();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (!keep) rmSync(shots, { recursive: true, force: true });
  });

  it('the graph shows the demo\'s nodes and edges with protocol and rates, and the failing edge its error rate', async () => {
    // The control plane scrapes every 5 s and a rate needs two scrapes: keep traffic flowing
    // until the graph has all of it, then look at the page.
    let seen = '';
    await until('the graph with traffic', async () => {
      await inBatches(6, 3, () => send(`${ingress}/productpage`));
      const g = (await (await fetch(`${dashboard}/api/graph`)).json()) as ServiceGraph;
      const have = g.edges.filter((e) => (e.requestRate ?? 0) > 0).map((e) => `${e.source} -> ${e.target}`);
      seen = have.join('\n');
      return EXPECTED_EDGES.every((e) => have.includes(e)) && g.edges.some((e) => isFailingDetails(`${e.source} -> ${e.target}`) && (e.errorRate ?? 0) > 0) ? g : undefined;
    }, 45_000).catch((err: Error) => assert.fail(`${err.message}; edges with traffic:\n${seen}`));
    await page.goto(`${dashboard}/#/graph`);
    const edges = await until('edges on the page', () => page.evaluate(() => {
      const cy = (globalThis as unknown as { weftGraph?: { edges(): { map<T>(fn: (e: { data(k: string): unknown }) => T): T[] } } }).weftGraph;
      const all = cy?.edges().map((e) => ({ id: String(e.data('id')), key: `${String(e.data('source'))} -> ${String(e.data('target'))}`, label: String(e.data('label')), failing: e.data('failing') === 1 }));
      return all && all.length > 0 ? all : undefined;
    }), 15_000);
    for (const want of EXPECTED_EDGES) {
      const e = edges.find((x) => x.key === want);
      assert.ok(e, `${want} is drawn; drawn: ${edges.map((x) => x.key).join(', ')}`);
      assert.match(e.label, /^http \d+(\.\d+)? rps/, `${want} is labelled with protocol and rate`);
      assert.doesNotMatch(e.label, /^http 0\.00 rps/, `${want} has a non-zero rate`);
      assert.match(e.label, /mTLS$/, `${want} carries the mTLS mark (the demo profile's auto mTLS)`);
    }
    const failing = edges.find((x) => isFailingDetails(x.key));
    assert.ok(failing?.failing, 'productpage -> details is drawn as failing');
    assert.match(failing.label, / 100\.0% err/);
    // Versions of reviews are grouped in one box for the app.
    const parents = await page.evaluate(() => {
      const cy = (globalThis as unknown as { weftGraph: { getElementById(id: string): { data(k: string): unknown } } }).weftGraph;
      return ['v1', 'v2', 'v3'].map((v) => String(cy.getElementById(`workload/default/reviews-${v}`).data('parent')));
    });
    assert.deepEqual(parents, ['app/default/reviews', 'app/default/reviews', 'app/default/reviews']);
    await screenshot('graph');
    // Live: new traffic reaches the page through the event stream, without a reload.
    await page.evaluate(() => ((globalThis as unknown as { weftMarker: number }).weftMarker = 1));
    const before = edges.map((e) => e.label).join('|');
    await until('an edge label updated by the event stream', async () => {
      await inBatches(6, 3, () => send(`${ingress}/productpage`));
      return page.evaluate((old) => {
        const g = globalThis as unknown as { weftMarker?: number; weftGraph: { edges(): { map<T>(fn: (e: { data(k: string): unknown }) => T): T[] } } };
        const now = g.weftGraph.edges().map((e) => String(e.data('label'))).join('|');
        return g.weftMarker === 1 && now !== old ? true : undefined;
      }, before);
    }, 30_000);
    // The namespace filter: only paths that touch istio-system (the gateway's edge into default).
    await page.locator('#namespace').selectOption('istio-system');
    const filtered = await until('the graph filtered to istio-system', () => page.evaluate(() => {
      const cy = (globalThis as unknown as { weftGraph?: { edges(): { map<T>(fn: (e: { data(k: string): unknown }) => T): T[] } } }).weftGraph;
      const keys = cy?.edges().map((e) => `${String(e.data('source'))} -> ${String(e.data('target'))}`);
      return keys && keys.length > 0 && keys.length < 8 ? keys : undefined;
    }), 15_000);
    assert.ok(filtered.includes('workload/istio-system/istio-ingressgateway -> service/default/productpage'), filtered.join(', '));
    assert.ok(!filtered.includes('service/default/reviews -> workload/default/reviews-v1'), filtered.join(', '));
    await page.locator('#namespace').selectOption('');
  });

  it('clicking an edge opens its details, with a link to its recent traces; a node, the config that applies to it', async () => {
    await page.goto(`${dashboard}/#/graph`);
    const point = await until('the edge on the canvas', () => page.evaluate(() => {
      const cy = (globalThis as unknown as { weftGraph?: { edges(): { filter(fn: (e: { data(k: string): unknown }) => boolean): { length: number; renderedMidpoint(): { x: number; y: number } } } } }).weftGraph;
      const edge = cy?.edges().filter((e) => String(e.data('source')) === 'workload/default/productpage-v1' && Number(e.data('failing')) === 1);
      if (!edge || edge.length === 0) return undefined;
      const doc = (globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number } } | null } }).document;
      const box = doc.getElementById('graph')?.getBoundingClientRect();
      const mid = edge.renderedMidpoint();
      return box ? { x: box.left + mid.x, y: box.top + mid.y } : undefined;
    }), 15_000);
    await page.mouse.click(point.x, point.y);
    const panel = page.locator('#details h3');
    await panel.filter({ hasText: /productpage-v1 \u2192 details/ }).waitFor({ timeout: 10_000 });
    const text = await page.locator('#details').innerText();
    for (const field of ['protocol', 'http', 'requests/s', 'error rate', '100.0%', 'p50', 'p99', 'code 555', 'mTLS']) assert.ok(text.includes(field), `details show ${field}:\n${text}`);
    // Its charts over time: request rate, error rate (100% under the fault) and latency, drawn
    // from the control plane's series with the traffic the first test sent.
    const charts = await until('the edge\'s charts drawn with traffic', () => page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document;
      const read = (id: string) => {
        const plot = doc.querySelector(`#${id} [data-max]`);
        return { max: Number(plot?.getAttribute('data-max') ?? 0), points: Number(plot?.getAttribute('data-points') ?? 0) };
      };
      const got = { requests: read('chart-requests'), errors: read('chart-errors'), latency: read('chart-latency') };
      return got.requests.max > 0 ? got : undefined;
    }), 20_000);
    assert.ok(charts.requests.points >= 2, `the request rate is a line: ${JSON.stringify(charts)}`);
    assert.equal(charts.errors.max, 100, 'every request on the edge fails under the fault: 100%');
    assert.ok(charts.latency.points >= 1, `latency is drawn: ${JSON.stringify(charts)}`);
    const captions = await page.locator('#charts figcaption').allInnerTexts();
    assert.deepEqual(captions.map((c) => c.split(' \u25a0')[0]), ['request rate (req/s)', 'error rate (%)', 'latency (ms)']);
    await screenshot('edge-details');
    // The traces of exactly this pair: productpage's calls whose remote service is details.
    assert.equal(await page.locator('#edge-traces').innerText(), 'recent traces of productpage.default \u2192 details.default');
    await page.locator('#edge-traces').click();
    await page.locator('#trace-list tbody tr').first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('select[name=service]').inputValue(), 'productpage.default');
    assert.equal(await page.locator('input[name=remoteServiceName]').inputValue(), 'details.default');
    const shown = await page.locator('#trace-list tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace') ?? ''));
    for (const id of shown.slice(0, 5)) {
      const spans = (await (await fetch(`${dashboard}/api/zipkin/api/v2/trace/${id}`)).json()) as Span[];
      assert.ok(spans.some((s) => s.localEndpoint?.serviceName === 'productpage.default' && s.remoteEndpoint?.serviceName === 'details.default'), `trace ${id} has a productpage -> details call`);
    }
    await screenshot('edge-traces');
    // A node: its details list the config that applies to it (Istio's fault-injection sample for details).
    await page.goto(`${dashboard}/#/graph`);
    // A live update may lay the graph out again between reading a position and clicking it:
    // read and click until the details open.
    await until('the productpage service clicked, its config listed', async () => {
      const node = await page.evaluate(() => {
        const cy = (globalThis as unknown as { weftGraph?: { getElementById(id: string): { nonempty(): boolean; renderedPosition(): { x: number; y: number } } } }).weftGraph;
        if (!cy?.getElementById('service/default/productpage').nonempty()) return undefined;
        const doc = (globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { left: number; top: number } } | null } }).document;
        const box = doc.getElementById('graph')?.getBoundingClientRect() ?? { left: 0, top: 0 };
        const at = cy.getElementById('service/default/productpage').renderedPosition();
        return { x: box.left + at.x, y: box.top + at.y };
      });
      if (!node) return undefined;
      await page.mouse.click(node.x, node.y);
      return (await page.locator('#node-config li').first().waitFor({ timeout: 1_500 }).then(() => true, () => false)) || undefined;
    }, 20_000);
    const applied = await page.locator('#node-config').innerText();
    assert.match(applied, /DestinationRule default\/productpage \(host\)/);
    assert.match(applied, /VirtualService default\/bookinfo \(hosts\)/);
    // A service's charts: every request into it (here, by the gateway's edge), p50/p99 from the merged histograms.
    const serviceRate = await until('the service\'s request-rate chart with traffic', () => page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null; textContent: string | null } | null } }).document;
      const max = Number(doc.querySelector('#chart-requests [data-max]')?.getAttribute('data-max') ?? 0);
      return max > 0 ? { max, note: doc.querySelector('#charts p')?.textContent ?? '' } : undefined;
    }), 20_000);
    assert.match(serviceRate.note, /1 incoming edge, p50\/p99 from their duration histograms merged/);
    await screenshot('service-charts');
  });

  it('a trace opens as a waterfall with the trace store\'s parent/child structure and span tags', async () => {
    const zipkin = `${dashboard}/api/zipkin/api/v2`;
    // A whole trace: spans are flushed by each proxy on its own, so wait for one with every span.
    const trace = await until('a complete trace through the gateway', async () => {
      const traces = (await (await fetch(`${zipkin}/traces?serviceName=istio-ingressgateway.istio-system&limit=50`)).json()) as Span[][];
      const server = (spans: Span[], service: string) => spans.some((s) => s.localEndpoint?.serviceName === service && s.kind === 'SERVER');
      return traces.find((spans) => spans.length >= 6 && ['istio-ingressgateway.istio-system', 'productpage.default', 'reviews.default'].every((svc) => server(spans, svc)));
    }, 20_000);
    const traceId = trace[0]?.traceId ?? '';
    await page.goto(`${dashboard}/#/traces?service=istio-ingressgateway.istio-system`);
    await page.locator('input[name=limit]').fill('50');
    await page.locator('#trace-search button').click();
    await page.locator(`tr[data-trace="${traceId}"]`).click();
    await page.locator(`.waterfall[data-trace-id="${traceId}"] .span`).first().waitFor({ timeout: 10_000 });
    const rows = await page.locator('.waterfall .span').evaluateAll((els) => els.map((e) => ({
      id: e.getAttribute('data-span-id') ?? '', parent: e.getAttribute('data-parent-id') ?? '', depth: Number(e.getAttribute('data-depth')), text: (e.querySelector('.name') as unknown as { innerText: string }).innerText,
    })));
    const spans = (await (await fetch(`${zipkin}/trace/${traceId}`)).json()) as Span[];
    assert.deepEqual(rows.map((r) => r.id).sort(), spans.map((s) => s.id).sort(), 'every span of the trace, once');
    for (const [i, row] of rows.entries()) {
      const span = spans.find((s) => s.id === row.id);
      assert.equal(row.parent, span?.parentId ?? '');
      const parentIndex = rows.findIndex((r) => r.id === row.parent);
      if (parentIndex < 0) {
        assert.equal(row.depth, 0, `${row.text} has no parent in the trace: a root`);
        continue;
      }
      assert.ok(parentIndex < i, `${row.text} comes after its parent`);
      assert.equal(row.depth, (rows[parentIndex]?.depth ?? 0) + 1, `${row.text} is one level under its parent`);
    }
    const top = rows.slice(0, 2).map((r) => [r.depth, r.text.split(' ').slice(0, 2).join(' ')]);
    assert.deepEqual(top, [[0, 'istio-ingressgateway.istio-system SERVER'], [1, 'productpage.default SERVER']]);
    const clients = rows.filter((r) => r.depth === 2).map((r) => r.text.split(' ').slice(0, 2).join(' '));
    assert.deepEqual(clients, ['productpage.default CLIENT', 'productpage.default CLIENT'], 'productpage calls details and reviews');
    await page.locator('.waterfall .span').first().click();
    const tags = await page.locator('#span-details').innerText();
    for (const tag of ['response_flags', 'upstream_cluster', 'http.status_code', 'istio.canonical_service', 'guid:x-request-id']) assert.ok(tags.includes(tag), `span tags show ${tag}:\n${tags}`);
    await screenshot('trace');
  });

  it('the workloads view lists the pods as `weft get pods -A` does, with sidecar sync status', async () => {
    const table = mesh.weft('get', 'pods', '-A');
    assert.equal(table.code, 0, table.stderr);
    const expected = table.stdout.trim().split('\n').slice(1).map((line) => line.split(/\s+/).slice(0, 5)).sort();
    await page.goto(`${dashboard}/#/workloads`);
    await page.locator('#workloads tbody tr').first().waitFor({ timeout: 10_000 });
    const rows = await page.locator('#workloads tbody tr').evaluateAll((els) => els.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText)));
    assert.deepEqual(rows.map((r) => r.slice(0, 5)).sort(), expected);
    const synced = rows.filter((r) => r[7] === 'SYNCED').map((r) => r[1] ?? '');
    for (const prefix of ['productpage-v1-', 'reviews-v2-', 'istio-ingressgateway-']) assert.ok(synced.some((n) => n.startsWith(prefix)), `${prefix}* has a SYNCED proxy: ${JSON.stringify(rows)}`);
    assert.ok(rows.filter((r) => r[1]?.startsWith('istiod-')).every((r) => r[7] === '-'), 'the control plane has no proxy');
    await screenshot('workloads');
  });

  it('the config view lists the applied resources and opens one as applied', async () => {
    await page.goto(`${dashboard}/#/config`);
    const row = page.locator('tr[data-resource="VirtualService/default/details"]');
    await row.click();
    await page.locator('#config-details pre').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#config-details pre').innerText(), /"httpStatus": 555/);
    await page.locator('#proxy').selectOption({ index: 1 });
    await page.locator('#proxy-config details').first().waitFor({ timeout: 10_000 });
    const text = await page.locator('#proxy-config').innerText();
    assert.match(text, /Listeners \(\d+\)/);
    assert.doesNotMatch(await page.locator('#proxy-config pre').textContent() ?? '', /BEGIN (RSA |EC )?PRIVATE KEY/, 'no key material');
    await screenshot('config');
  });
});
