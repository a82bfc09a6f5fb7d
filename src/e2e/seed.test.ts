/**
 * The seed's installation guide end to end, in its order, with the files a user would use and the
 * `weft` CLI as the user runs it, once per network mode (netns only where it can run: root on
 * Linux): install from the seed's operator file with its revision; the app deployed, its namespace
 * labelled for injection, its deployments restarted, every pod 2/2; Istio's bookinfo gateway and
 * destination rules; then the seed's traffic management examples with Istio's sample files: request
 * routing (jason -> reviews v2), traffic shifting 50/50 (a binomial bound), the 7 s delay (the
 * product page gives up after its two 3 s attempts) and the HTTP 500 abort; then the seed's claim
 * that proxies speak mutual TLS, from the servers' own metrics, and its last hop: out through the
 * egress gateway (Istio's egress gateway task, against a server on the host).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { sharedPath } from '../lib/repo.js';
import { DEMO_MANIFESTS } from '../demo/index.js';
import { REVIEWS_UNAVAILABLE } from '../demo/page.js';
import { RATINGS_UNAVAILABLE } from '../demo/reviews.js';
import { TestMesh, until, readyCount, type CliResult, type PodItem } from '../runtime/testing.js';
import type { RuntimeStatus } from '../runtime/status.js';
import { NetnsNetwork } from '../runtime/network/index.js';
import { parseExposition, sum } from '../proxy/telemetry/parse.js';
import { EXTERNAL_HOST, egressManifests, egressRouting, startExternalServer } from './egress.js';
import { inBatches, productPage, send, signIn, type ProductPage } from './bookinfo-client.js';

const seedFile = (name: string) => sharedPath('seed-configs', name);
const sample = (name: string) => sharedPath('istio-samples', 'bookinfo-networking', name);
const BOOKINFO_DEPLOYMENTS = ['details-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'productpage-v1'];

// Traffic shifting: N pages, v3's share binomial(N, 0.5); the bound is 4 standard deviations
// (a correct mesh fails it about once in 15,000 runs).
const SHIFT_REQUESTS = 200;
const SHIFT_BOUND = 4 * Math.sqrt(SHIFT_REQUESTS * 0.25);

const netnsProblem = await NetnsNetwork.problem();

for (const network of ['plain', 'netns'] as const) {
  const skip = network === 'netns' && netnsProblem !== undefined ? `netns mode cannot run here: ${netnsProblem}` : false;
  test(`the seed's steps in order (network ${network})`, { skip, timeout: 300_000 }, async (t) => {
    const mesh = new TestMesh();
    t.after(() => mesh.cleanup());
    await mesh.start('--network', network);
    await seedSteps(t, mesh, network);
  });
}

async function seedSteps(t: TestContext, mesh: TestMesh, network: string): Promise<void> {
  const ok = (r: CliResult): string => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const apply = (file: string) => ok(mesh.weft('apply', '-f', file));
  // Later steps build on earlier ones: once one fails, the rest are reported as skipped.
  let failed: string | undefined;
  const step = async (name: string, fn: (st: TestContext) => Promise<void>) => {
    if (failed !== undefined) return void (await t.test(name, { skip: `step "${failed}" failed` }, () => {}));
    const started = performance.now();
    await t.test(name, async (st) => {
      try {
        await fn(st);
      } catch (err) {
        failed = name;
        throw err;
      } finally {
        st.diagnostic(`${network}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    });
  };
  let base = '';

  await step('install with the seed\'s operator file and revision: istiod-1-20-1 x2, gateways x2 each, 1/1', async () => {
    ok(mesh.weft('install', '--set', 'revision=1-20-1', '-f', seedFile('01-istio-operator.yaml'), '-y', '--timeout', '120'));
    const rows = await until('istio-system pods 1/1 Running', () => {
      const table = tableRows(ok(mesh.weft('get', 'pods', '-n', 'istio-system')));
      return table.length === 6 && table.every((r) => r.READY === '1/1' && r.STATUS === 'Running') ? table : undefined;
    }, 60_000);
    const count = (re: RegExp) => rows.filter((r) => re.test(r.NAME ?? '')).length;
    assert.equal(count(/^istiod-1-20-1-[a-z0-9]+-[a-z0-9]+$/), 2, 'istiod-1-20-1 x2');
    assert.equal(count(/^istio-ingressgateway-[a-z0-9]+-[a-z0-9]+$/), 2, 'ingress gateway x2');
    assert.equal(count(/^istio-egressgateway-[a-z0-9]+-[a-z0-9]+$/), 2, 'egress gateway x2');
  });

  await step('deploy the app, label its namespace istio-injection=enabled, rollout restart: every pod 2/2', async () => {
    apply(DEMO_MANIFESTS.bookinfo);
    await until('bookinfo 1/1 without injection', async () => {
      const pods = await mesh.pods('default');
      return pods.length === 6 && pods.every((p) => readyCount(p) === '1/1') ? true : undefined;
    }, 60_000);
    // The seed installed revision 1-20-1 and labels istio-injection=enabled: the first revision
    // installed is the default one, as istioctl makes it.
    ok(mesh.weft('label', 'namespace', 'default', 'istio-injection=enabled'));
    for (const d of BOOKINFO_DEPLOYMENTS) ok(mesh.weft('rollout', 'restart', `deployment/${d}`, '-n', 'default'));
    await until('bookinfo 2/2 after the restart', async () => {
      const pods = await mesh.pods('default');
      return pods.length === 6 && pods.every((p) => readyCount(p) === '2/2' && p.status.phase === 'Running') ? true : undefined;
    }, 120_000);
    const rows = tableRows(ok(mesh.weft('get', 'pods', '-o', 'wide')));
    assert.deepEqual(rows.map((r) => r.NAME?.replace(/-[a-z0-9]+-[a-z0-9]+$/, '')).sort(), [...BOOKINFO_DEPLOYMENTS].sort());
    for (const r of rows) {
      assert.equal(r.READY, '2/2', r.NAME);
      assert.equal(r.STATUS, 'Running', r.NAME);
      assert.equal(r.RESTARTS, '0', r.NAME);
      assert.equal(r['PROXY MEMORY'], '100Mi', `${r.NAME}: the seed's proxy memory limit`);
    }
  });

  await step('Istio\'s bookinfo-gateway.yaml and destination-rule-all.yaml: /productpage through the ingress', async () => {
    apply(sample('bookinfo-gateway.yaml'));
    apply(sample('destination-rule-all.yaml'));
    const status = mesh.json<RuntimeStatus>('status', '-o', 'json');
    assert.equal(status.network, network);
    assert.ok(status.ingress.http, 'weft status names the ingress address');
    base = status.ingress.http;
    // No VirtualService for reviews yet: round robin over its three versions, as in Istio's guide.
    const seen = new Set<string>();
    await until('every reviews version behind the ingress', async () => {
      const page = await productPage(base);
      if (page.status === 200 && page.version) seen.add(page.version);
      return seen.size === 3 ? true : undefined;
    }, 60_000);
    assert.equal((await send(`${base}/nothing-routed-here`)).status, 404, 'paths the gateway\'s VirtualService does not match');
  });

  let jason = '';
  await step('request routing: virtual-service-all-v1, then reviews-test-v2: anonymous v1 (no stars), jason v2 (black stars)', async () => {
    apply(sample('virtual-service-all-v1.yaml'));
    await untilSteady('anonymous on reviews v1 only', () => productPage(base), (p) => p.version === 'v1');
    apply(sample('virtual-service-reviews-test-v2.yaml'));
    jason = await signIn(base, 'jason');
    await untilSteady('jason on reviews v2', () => productPage(base, jason), (p) => p.version === 'v2');
    for (let i = 0; i < 5; i++) {
      const anonymous = await productPage(base);
      assert.equal(anonymous.status, 200);
      assert.equal(anonymous.version, 'v1', anonymous.servedBy);
      assert.deepEqual(anonymous.starColors, [], 'v1 shows no stars');
      assert.equal(anonymous.signedInAs, undefined);
      const his = await productPage(base, jason);
      assert.equal(his.signedInAs, 'jason');
      assert.equal(his.version, 'v2', his.servedBy);
      assert.deepEqual(his.starColors, ['black', 'black'], 'v2 shows black stars');
    }
  });

  await step(`traffic shifting: reviews-50-v3, ${SHIFT_REQUESTS} pages, v3 (red stars) within ±4σ of half`, async () => {
    apply(sample('virtual-service-reviews-50-v3.yaml'));
    // v3 only answers under the new rule: one red page means this proxy has it.
    await until('a red-star page', async () => ((await productPage(base)).version === 'v3' ? true : undefined), 30_000);
    const pages = await inBatches(SHIFT_REQUESTS, 4, () => productPage(base));
    const seen: Record<string, number> = {};
    for (const p of pages) {
      const what = `HTTP ${p.status} ${p.version ?? 'no reviews'} stars: ${p.starColors.join(',') || 'none'}`;
      seen[what] = (seen[what] ?? 0) + 1;
    }
    const red = seen['HTTP 200 v3 stars: red,red'] ?? 0;
    const none = seen['HTTP 200 v1 stars: none'] ?? 0;
    t.diagnostic(`${network}: traffic shifting: ${JSON.stringify(seen)}`);
    assert.equal(red + none, SHIFT_REQUESTS, `every page is v1 without stars or v3 with red stars: ${JSON.stringify(seen)}`);
    assert.ok(Math.abs(red - SHIFT_REQUESTS / 2) <= SHIFT_BOUND, `${red} of ${SHIFT_REQUESTS} red, allowed ${SHIFT_REQUESTS / 2} ± ${SHIFT_BOUND.toFixed(1)}`);
  });

  await step('fault injection: ratings-test-delay (7 s for jason): the page gives up after ~6 s with the reviews error', async () => {
    // Istio's task starts from all-v1 + reviews-test-v2, which the traffic shifting step replaced.
    apply(sample('virtual-service-reviews-test-v2.yaml'));
    await untilSteady('jason back on reviews v2', () => productPage(base, jason), (p) => p.version === 'v2');
    apply(sample('virtual-service-ratings-test-delay.yaml'));
    const page = await until('jason\'s page without reviews', async () => {
      const p = await productPage(base, jason, 30_000);
      return p.body.includes(REVIEWS_UNAVAILABLE) ? p : undefined;
    }, 60_000);
    t.diagnostic(`${network}: jason's page with the 7 s delay took ${(page.elapsedMs / 1000).toFixed(2)} s`);
    assert.equal(page.status, 200);
    assert.equal(page.signedInAs, 'jason');
    assert.match(page.body, /<dd>paperback<\/dd>/, 'details still shown');
    // productpage calls reviews twice with 3 s each (bookinfo's "bug" the task uncovers).
    assert.ok(page.elapsedMs >= 5_900, `the page waited for both 3 s attempts (${page.elapsedMs.toFixed(0)} ms)`);
    const anonymous = await productPage(base);
    assert.equal(anonymous.version, 'v1', 'the delay applies to jason only');
    assert.ok(!anonymous.body.includes(REVIEWS_UNAVAILABLE));
  });

  await step('fault injection: ratings-test-abort (HTTP 500 for jason): "Ratings service is currently unavailable"', async (st) => {
    apply(sample('virtual-service-ratings-test-abort.yaml'));
    const page = await until('jason\'s page with ratings unavailable', async () => {
      const p = await productPage(base, jason, 30_000);
      return p.body.includes(RATINGS_UNAVAILABLE) ? p : undefined;
    }, 60_000);
    assert.equal(page.status, 200);
    assert.equal(page.version, 'v2', page.servedBy);
    assert.equal(page.body.split(RATINGS_UNAVAILABLE).length - 1, 2, 'both reviews say so');
    assert.deepEqual(page.starColors, []);
    // productpage's ratings API passes the status on: the proxy's 500 for jason, 200 for others.
    assert.equal((await send(`${base}/api/v1/products/0/ratings`, { headers: { cookie: jason } })).status, 500);
    assert.equal((await send(`${base}/api/v1/products/0/ratings`)).status, 200);
    // The 500 came from the caller's proxy (fault abort, flag FI), as the seed says.
    const samples = await scrape(await podOf(mesh, 'reviews-v2'));
    const aborted = (labels: Record<string, string>) => sum(samples, 'istio_requests_total', { reporter: 'source', response_code: '500', response_flags: 'FI', ...labels });
    assert.ok(aborted({}) >= 1, `reviews-v2's sidecar counts its aborted calls (500, FI): ${describeRequests(samples)}`);
    await st.test('the aborted calls are labelled with the route\'s service, as Envoy resolves the cluster with the route', () => {
      const names = samples.filter((x) => x.name === 'istio_requests_total' && x.labels.response_flags === 'FI').map((x) => x.labels.destination_service_name);
      assert.ok(aborted({ destination_service_name: 'ratings', destination_service: 'ratings.default.svc.cluster.local' }) >= 1, `FI labelled ${JSON.stringify(names)}`);
    });
  });

  await step('mutual TLS between the proxies: the servers report the callers\' SPIFFE identities and mutual_tls', async (st) => {
    for (const [server, caller] of [['ratings-v1', 'bookinfo-reviews'], ['reviews-v1', 'bookinfo-productpage'], ['productpage-v1', 'istio-ingressgateway-service-account']] as const) {
      const samples = await scrape(await podOf(mesh, server));
      const namespace = caller.startsWith('istio-') ? 'istio-system' : 'default';
      const mtls = sum(samples, 'istio_requests_total', { reporter: 'destination', source_principal: `spiffe://cluster.local/ns/${namespace}/sa/${caller}`, connection_security_policy: 'mutual_tls' });
      assert.ok(mtls >= 1, `${server} saw mutual TLS from ${caller}: ${describeRequests(samples)}`);
      await st.test(`${server} served nothing in plaintext`, () => {
        const plaintext = samples.filter((x) => x.name === 'istio_requests_total' && x.labels.reporter === 'destination' && x.labels.connection_security_policy === 'none');
        assert.deepEqual(plaintext.map((x) => `${x.labels.source_workload} -> ${x.labels.destination_workload}: ${x.value}`), []);
      });
    }
  });

  await step('egress gateway: Istio\'s egress gateway task, a call to an external host leaves through istio-egressgateway', async (st) => {
    // The external server sits on the host, where pods can reach it: loopback (plain) or the pods' bridge (netns).
    const podIp = (await podOf(mesh, 'productpage-v1')).status.podIP ?? '';
    const external = await startExternalServer(network === 'netns' ? podIp.replace(/\.\d+$/, '.1') : '127.0.0.1');
    t.after(() => external.close());
    apply(egressManifests(mesh.home, external));
    const client = await until('egress-client 2/2', async () => (await mesh.pods('default')).find((p) => p.metadata.name.startsWith('egress-client-') && readyCount(p) === '2/2'), 60_000);
    const expected = '200 external answer to /hello';
    const call = async () => (await send(`http://${client.status.podIP ?? ''}:9080/`)).body;
    const gateways = (await mesh.pods('istio-system')).filter((p) => p.metadata.name.startsWith('istio-egressgateway-'));
    const leaving = async () => {
      let n = 0;
      for (const g of gateways) n += sum(await scrape(g), 'istio_requests_total', { destination_service_name: EXTERNAL_HOST, response_code: '200' });
      return n;
    };
    // Until a call succeeds and the egress gateways counted it.
    const throughGateway = async (timeoutMs: number) => {
      const before = await leaving();
      await until('the external server through the egress gateway', async () => {
        const body = await call();
        if (body !== expected) throw new Error(`the caller got: ${body}`);
        return (await leaving()) > before ? true : undefined;
      }, timeoutMs);
    };
    // The task's first step: with only the ServiceEntry, the sidecar calls the external host itself.
    assert.equal(await until('the external server straight from the sidecar', async () => ((await call()) === expected ? true : undefined), 30_000), true);
    assert.equal(await leaving(), 0, 'no egress gateway involved yet');
    await st.test('as the task is written today: HTTP on port 80, auto mTLS picks the hop to the gateway', async () => {
      apply(egressRouting(mesh.home, 'plain'));
      await throughGateway(6_000);
    });
    // The seed: all traffic between proxies is mutual TLS; the task's mTLS variant says so explicitly.
    apply(egressRouting(mesh.home, 'mutual'));
    await throughGateway(30_000);
    const before = await leaving();
    for (let i = 0; i < 3; i++) assert.equal(await call(), expected);
    // A proxy records a request when its answer is finished, which may be just after the caller has it.
    await until('the egress gateways counted each call', async () => ((await leaving()) >= before + 3 ? true : undefined), 5_000);
    assert.ok(external.received.every((h) => h === EXTERNAL_HOST), external.received.join(', '));
    const own = await scrape(client);
    assert.ok(sum(own, 'istio_requests_total', { reporter: 'source', destination_service_name: 'istio-egressgateway', response_code: '200' }) >= 1,
      `the caller's sidecar sent them to the egress gateway: ${describeRequests(own)}`);
  });
}

/** The request counts a sidecar reported, for failure messages. */
function describeRequests(samples: ReturnType<typeof parseExposition>['samples']): string {
  return JSON.stringify(samples.filter((s) => s.name === 'istio_requests_total').map((s) => ({ ...s.labels, value: s.value })), null, 1);
}

/** Polls `get` until `want` holds for 5 answers in a row (a new rule reached the proxy that matters). */
async function untilSteady(what: string, get: () => Promise<ProductPage>, want: (p: ProductPage) => boolean): Promise<void> {
  let streak = 0;
  await until(what, async () => {
    const p = await get();
    streak = p.status === 200 && want(p) ? streak + 1 : 0;
    return streak >= 5 ? true : undefined;
  }, 60_000);
}

/** `weft get` text as rows keyed by the header's column names (which may contain one space). */
function tableRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  if (!header) return [];
  const columns = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.map((line) => Object.fromEntries(columns.map((c, i) => [c.name, line.slice(c.at, columns[i + 1]?.at ?? line.length).trim()])));
}

async function podOf(mesh: TestMesh, deployment: string): Promise<PodItem> {
  const pod = (await mesh.pods('default')).find((p) => p.metadata.name.startsWith(`${deployment}-`) && readyCount(p) === '2/2');
  assert.ok(pod?.status.podIP, `a ready pod of ${deployment}`);
  return pod;
}

/** The sidecar's Prometheus endpoint (15090) on the pod's address, reachable from the host in both modes. */
async function scrape(pod: PodItem): Promise<ReturnType<typeof parseExposition>['samples']> {
  const body = await new Promise<string>((resolve, reject) => {
    http.get({ host: pod.status.podIP, port: 15090, path: '/stats/prometheus', agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject).on('timeout', function (this: http.ClientRequest) {
      this.destroy(new Error(`scraping ${pod.metadata.name} timed out`));
    });
  });
  return parseExposition(body).samples;
}
