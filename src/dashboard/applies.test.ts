/**
 * The config listed in a graph node's details: routes and destination rules by host, policies by
 * selector, namespace and root namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../resources/index.js';
import { resourcesApplyingTo, workloadLabels } from './applies.js';

const YAML = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec: {hosts: [ratings.default.svc.cluster.local], http: [{route: [{destination: {host: ratings}}]}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: all, namespace: default}
spec: {host: "*.default.svc.cluster.local"}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-viewer, namespace: default}
spec: {selector: {matchLabels: {app: reviews}}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-only, namespace: default}
spec: {selector: {matchLabels: {app: ratings}}, rules: [{}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: elsewhere, namespace: other}
spec: {mtls: {mode: PERMISSIVE}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v2, namespace: default}
spec:
  selector: {matchLabels: {app: reviews, version: v2}}
  template:
    metadata: {labels: {app: reviews, version: v2}}
    spec: {containers: [{name: reviews, image: demo}]}
`;

const resources = (() => {
  const loaded = loadResources([{ file: 'config.yaml', text: YAML }]);
  assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
  return loaded.resources;
})();

const names = (refs: { kind: string; namespace: string; name: string; why: string }[]) => refs.map((r) => `${r.kind} ${r.namespace}/${r.name} (${r.why})`);

test('a service: the VirtualServices naming its host, short or long, and DestinationRules covering it', () => {
  assert.deepEqual(names(resourcesApplyingTo(resources, { host: 'reviews.default.svc.cluster.local' })), ['DestinationRule default/all (host)', 'VirtualService default/reviews (hosts)']);
  assert.deepEqual(names(resourcesApplyingTo(resources, { host: 'ratings.default.svc.cluster.local' })), ['DestinationRule default/all (host)', 'VirtualService default/ratings (hosts)']);
  assert.deepEqual(names(resourcesApplyingTo(resources, { host: 'ratings.other.svc.cluster.local' })), []);
});

test('a workload: policies whose selector matches its labels, namespace-wide and mesh-wide ones', () => {
  const labels = workloadLabels(resources, 'default', 'reviews-v2');
  assert.deepEqual(labels, { app: 'reviews', version: 'v2' });
  assert.deepEqual(names(resourcesApplyingTo(resources, { workload: { namespace: 'default', labels: labels ?? {} } })), [
    'AuthorizationPolicy default/reviews-viewer (selector)',
    'PeerAuthentication istio-system/default (mesh-wide)',
  ]);
  assert.equal(workloadLabels(resources, 'default', 'nothing'), undefined);
});
