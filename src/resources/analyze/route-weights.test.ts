import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { routeWeightsAnalyzer } from './route-weights.js';

const lineOf = (yaml: string, marker: string): number => yaml.split('\n').findIndex((l) => l.includes(marker)) + 1;
const summary = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.level} ${d.location?.path} ${d.message}`);

function vs(body: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
${body}`;
}

test('weights on every destination that do not add up to 100 are WFT0005, a warning at the route', () => {
  const yaml = vs(`  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route:
    - destination: { host: reviews, subset: v1 } # split
      weight: 1
    - destination: { host: reviews, subset: v2 }
      weight: 3
  - route:
    - destination: { host: reviews, subset: v1 }
      weight: 60
    - destination: { host: reviews, subset: v2 }
      weight: 60
  tcp:
  - route:
    - destination: { host: reviews, port: { number: 9080 } }
      weight: 10
    - destination: { host: ratings, port: { number: 9080 } }
      weight: 10
`);
  const ds = analyzeYaml(yaml, [routeWeightsAnalyzer]);
  assert.deepEqual(summary(ds), [
    'WFT0005 Warning spec.http[0].route route weights add up to 4, not 100; traffic is split in proportion to the weights',
    'WFT0005 Warning spec.http[1].route route weights add up to 120, not 100; traffic is split in proportion to the weights',
    'WFT0005 Warning spec.tcp[0].route route weights add up to 20, not 100; traffic is split in proportion to the weights',
  ]);
  assert.equal(ds[0]?.location?.line, lineOf(yaml, '# split'));
});

test('weights adding up to 100, a single destination, or a destination without weight are not reported', () => {
  const yaml = vs(`  http:
  - match: [{ headers: { end-user: { exact: jason } } }]
    route:
    - destination: { host: reviews, subset: v1 }
      weight: 80
    - destination: { host: reviews, subset: v2 }
      weight: 20
  - match: [{ headers: { end-user: { exact: kim } } }]
    route:
    - destination: { host: reviews, subset: v3 }
      weight: 30
  - match: [{ headers: { end-user: { exact: lee } } }]
    route:
    - destination: { host: reviews, subset: v1 }
    - destination: { host: reviews, subset: v2 }
      weight: 50
  - route:
    - destination: { host: reviews, subset: v1 }
  tls:
  - match: [{ sniHosts: [reviews] }]
    route:
    - destination: { host: reviews, port: { number: 443 } }
      weight: 50
    - destination: { host: ratings, port: { number: 443 } }
      weight: 50
`);
  assert.deepEqual(summary(analyzeYaml(yaml, [routeWeightsAnalyzer])), []);
});
