/**
 * Golden files (STYLE.md §6): each case compiles for the proxies it names and is compared with
 * `<case>.out.yaml`; WEFT_UPDATE_GOLDEN=1 rewrites them instead. Cases are
 * testdata/<area>/<case>.in.yaml (header `# proxy: <role> <workload> <namespace>`), plus every
 * seed config and Istio bookinfo sample read from ../shared, compiled for the proxies in SHARED.
 * Every case runs on the platform of testkit.ts: bookinfo and the gateways (seed cases: and the seed's apps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath, sharedPath } from '../lib/repo.js';
import { buildTestMesh, nodeOf, platformSources, proxyHeaders, renderErrors, renderGolden } from './testkit.js';
import { compileProxyConfig } from './compile.js';
import type { ProxyRole } from '../proxy-config/index.js';

const UPDATE = process.env.WEFT_UPDATE_GOLDEN === '1';
const testdata = repoPath('src', 'compiler', 'testdata');

type ProxySpec = [ProxyRole, string, string];
const PRODUCTPAGE: ProxySpec = ['sidecar', 'productpage-v1', 'default'];
const REVIEWS_V2: ProxySpec = ['sidecar', 'reviews-v2', 'default'];
const INGRESS: ProxySpec = ['ingress-gateway', 'istio-ingressgateway', 'istio-system'];

/** Which proxies to compile each shared file for: the one whose config the file changes. */
const SHARED: Record<string, ProxySpec[]> = {
  'bookinfo-gateway.yaml': [INGRESS],
  'destination-rule-all-mtls.yaml': [PRODUCTPAGE],
  'destination-rule-all.yaml': [PRODUCTPAGE],
  'egress-rule-google-apis.yaml': [PRODUCTPAGE],
  'fault-injection-details-v1.yaml': [PRODUCTPAGE],
  'virtual-service-all-v1.yaml': [PRODUCTPAGE],
  'virtual-service-ratings-test-abort.yaml': [REVIEWS_V2],
  'virtual-service-ratings-test-delay.yaml': [REVIEWS_V2],
  'virtual-service-reviews-50-v3.yaml': [PRODUCTPAGE],
  'virtual-service-reviews-80-20.yaml': [PRODUCTPAGE],
  'virtual-service-reviews-jason-v2-v3.yaml': [PRODUCTPAGE],
  'virtual-service-reviews-test-v2.yaml': [PRODUCTPAGE],
  '01-istio-operator.yaml': [INGRESS],
  '02-namespace-maildev.yaml': [['sidecar', 'maildev', 'maildev']],
  '03-gateway-https.yaml': [INGRESS],
  '04-virtualservice-maildev.yaml': [INGRESS],
  '05-reviews-request-routing.yaml': [PRODUCTPAGE],
  '06-reviews-traffic-shifting.yaml': [PRODUCTPAGE],
  '07-ratings-fault-delay.yaml': [REVIEWS_V2],
  '08-ratings-fault-abort.yaml': [REVIEWS_V2],
  '09-request-authentication.yaml': [['sidecar', 'application', 'application']],
  '10-virtualservice-claims.yaml': [['sidecar', 'application', 'application']],
  '11-authorization-deny-path.yaml': [['sidecar', 'application', 'application']],
};

function check(name: string, outFile: string, file: string, text: string, proxies: ProxySpec[], seedApps = false): void {
  test(`golden ${name}`, () => {
    assert.ok(proxies.length > 0, `${name} names no proxy`);
    const mesh = buildTestMesh([{ file, text }], platformSources({ seedApps }));
    const actual = mesh.errors.length > 0
      ? renderErrors(mesh.errors)
      : renderGolden(proxies.map(([role, workload, ns]) => compileProxyConfig(mesh.snapshot, nodeOf(mesh.registry, role, workload, ns))));
    if (UPDATE) {
      writeFileSync(outFile, actual);
      return;
    }
    assert.ok(existsSync(outFile), `${outFile} is missing; run with WEFT_UPDATE_GOLDEN=1`);
    assert.equal(actual, readFileSync(outFile, 'utf8'));
  });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
}

for (const [area, dir] of [['seed', sharedPath('seed-configs')], ['samples', sharedPath('istio-samples', 'bookinfo-networking')]] as const) {
  mkdirSync(join(testdata, area), { recursive: true });
  for (const f of yamlFiles(dir)) {
    const label = area === 'seed' ? `seed-configs/${f}` : `istio-samples/bookinfo-networking/${f}`;
    check(`${area}/${f}`, join(testdata, area, f.replace(/\.ya?ml$/, '.out.yaml')), label, readFileSync(join(dir, f), 'utf8'), SHARED[f] ?? [], area === 'seed');
  }
}

for (const area of readdirSync(testdata).sort()) {
  if (area === 'seed' || area === 'samples' || area === 'platform') continue;
  for (const f of readdirSync(join(testdata, area)).filter((n) => n.endsWith('.in.yaml')).sort()) {
    const text = readFileSync(join(testdata, area, f), 'utf8');
    const proxies = proxyHeaders(text).map((p): ProxySpec => [p.role, p.workload, p.namespace]);
    check(`${area}/${f}`, join(testdata, area, f.replace(/\.in\.yaml$/, '.out.yaml')), `${area}/${f}`, text, proxies);
  }
}
