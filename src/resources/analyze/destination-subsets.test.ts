import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { destinationSubsetAnalyzer } from './destination-subsets.js';

const lineOf = (yaml: string, marker: string): number => yaml.split('\n').findIndex((l) => l.includes(marker)) + 1;
const summary = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name} ${d.message}`);

// Modelled on Istio's testdata/virtualservice_destinationrules.yaml.
const RULES = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }]
`;

function vs(name: string, namespace: string, body: string): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${name}.example.com]
  http:
${body}
`;
}

test('subsets a DestinationRule defines are not reported, by short name, FQDN or in a mirror', () => {
  const yaml = RULES
    + vs('short', 'default', '  - route: [{ destination: { host: reviews, subset: v1 } }]')
    + vs('fqdn', 'default', '  - route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v1 } }]')
    + vs('other-ns', 'istio-system', '  - route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v1 } }]')
    + vs('no-subset', 'default', '  - route: [{ destination: { host: ratings } }]')
    + vs('mirror', 'default', '  - route: [{ destination: { host: reviews, subset: v1 } }]\n    mirror: { host: reviews, subset: v1 }');
  assert.deepEqual(summary(analyzeYaml(yaml, [destinationSubsetAnalyzer])), []);
});

test('an undefined subset is IST0101 at the subset (Istio: reviews-bogussubset, reviews-mirror-bogussubset)', () => {
  const yaml = RULES
    + vs('bogus', 'default', '  - route:\n    - destination: { host: reviews, subset: bogus } # route')
    + vs('mirror-bogus', 'default', '  - route: [{ destination: { host: reviews, subset: v1 } }]\n    mirror: { host: reviews, subset: bogus } # mirror')
    + vs('mirrors-bogus', 'default', '  - route: [{ destination: { host: reviews, subset: v1 } }]\n    mirrors: [{ destination: { host: reviews, subset: v9 } }]');
  const ds = analyzeYaml(yaml, [destinationSubsetAnalyzer]);
  assert.deepEqual(summary(ds), [
    'IST0101 default/bogus Referenced host+subset in destinationrule not found: "reviews+bogus"',
    'IST0101 default/mirror-bogus Referenced mirror+subset in destinationrule not found: "reviews+bogus"',
    'IST0101 default/mirrors-bogus Referenced mirror+subset in destinationrule not found: "reviews+v9"',
  ]);
  assert.equal(ds[0]?.level, 'Error');
  assert.equal(ds[0]?.location?.path, 'spec.http[0].route[0].destination.subset');
  assert.equal(ds[0]?.location?.line, lineOf(yaml, '# route'));
  assert.equal(ds[1]?.location?.path, 'spec.http[0].mirror.subset');
  assert.equal(ds[1]?.location?.line, lineOf(yaml, '# mirror'));
  assert.equal(ds[2]?.location?.path, 'spec.http[0].mirrors[0].destination.subset');
});

test('short names resolve in their own namespace: a DestinationRule elsewhere is another host', () => {
  const yaml = RULES + vs('elsewhere', 'prod', `  - route: [{ destination: { host: reviews, subset: v1 } }]
  tcp:
  - route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v2 } }]`);
  assert.deepEqual(summary(analyzeYaml(yaml, [destinationSubsetAnalyzer])), [
    'IST0101 prod/elsewhere Referenced host+subset in destinationrule not found: "reviews+v1"',
    'IST0101 prod/elsewhere Referenced host+subset in destinationrule not found: "reviews.default.svc.cluster.local+v2"',
  ]);
});

test('a DestinationRule counts only where it is exported', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: local, namespace: default }
spec:
  host: reviews
  exportTo: ["."]
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: to-team, namespace: default }
spec:
  host: ratings
  exportTo: [team]
  subsets: [{ name: v1, labels: { version: v1 } }]
` + vs('same-ns', 'default', '  - route: [{ destination: { host: reviews, subset: v1 } }]')
    + vs('team', 'team', '  - route: [{ destination: { host: ratings.default.svc.cluster.local, subset: v1 } }]')
    + vs('hidden', 'other', '  - route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v1 } }]');
  assert.deepEqual(summary(analyzeYaml(yaml, [destinationSubsetAnalyzer])), [
    'IST0101 other/hidden Referenced host+subset in destinationrule not found: "reviews.default.svc.cluster.local+v1"',
  ]);
});

test('a wildcard DestinationRule supplies subsets unless a DestinationRule names the host itself', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: wildcard, namespace: default }
spec:
  host: "*.example.org"
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: exact, namespace: default }
spec:
  host: api.example.org
  subsets: [{ name: v2, labels: { version: v2 } }]
` + vs('covered', 'default', '  - route: [{ destination: { host: web.example.org, subset: v1 } }]')
    + vs('shadowed', 'default', '  - route: [{ destination: { host: api.example.org, subset: v1 } }]');
  assert.deepEqual(summary(analyzeYaml(yaml, [destinationSubsetAnalyzer])), [
    'IST0101 default/shadowed Referenced host+subset in destinationrule not found: "api.example.org+v1"',
  ]);
});
