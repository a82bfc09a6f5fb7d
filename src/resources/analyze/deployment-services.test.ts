import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { analyzeYaml } from './test-helpers.js';
import { deploymentServiceAnalyzer } from './deployment-services.js';

const run = (yaml: string): Diagnostic[] => analyzeYaml(yaml, [deploymentServiceAnalyzer]);
const where = (d: Diagnostic): string => `${d.code} ${d.level} ${d.origin?.name} ${d.location?.path} line ${d.location?.line}`;

const INJECTED_NS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bookinfo\n  labels:\n    istio-injection: enabled\n';

function deployment(name: string, app: string, opts: { namespace?: string; template?: string; labels?: string } = {}): string {
  return `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${opts.namespace ?? 'bookinfo'}\n${opts.labels ?? ''}spec:\n` +
    `  selector:\n    matchLabels: {app: ${app}}\n  template:\n    metadata:\n      labels: {app: ${app}}\n${opts.template ?? ''}` +
    `    spec:\n      containers:\n      - name: main\n        image: example/app\n`;
}

function service(name: string, selector: string, ports: string, namespace = 'bookinfo'): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n${selector ? `  selector: {${selector}}\n` : ''}  ports:\n${ports}`;
}

test('one port exposed with two protocols by two Services is IST0116 on the Deployment name (deployment-multi-service)', () => {
  const yaml = [
    INJECTED_NS,
    deployment('multiple-svc-multiple-prot', 'details'),
    service('details-udp-v1', 'app: details', '  - {name: udp, port: 9080, protocol: UDP}\n'),
    service('details-tcp-v1', 'app: details', '  - {name: tcp, port: 9080, protocol: TCP}\n'),
  ].join('---\n');
  const diags = run(yaml);
  assert.deepEqual(diags.map(where), ['IST0116 Warning multiple-svc-multiple-prot metadata.name line 11']);
  assert.equal(diags[0]?.message,
    'This deployment multiple-svc-multiple-prot is associated with multiple services using port 9080 but different protocols: [bookinfo/details-tcp-v1 bookinfo/details-udp-v1]');
});

test('one targetPort reached through two ports is IST0137 (deployment-multi-service: conflicting-ports)', () => {
  const yaml = [
    INJECTED_NS,
    deployment('conflicting-ports', 'conflicting-ports'),
    service('conflicting-ports-2', 'app: conflicting-ports', '  - {name: http, port: 9090, targetPort: 9080}\n'),
    service('conflicting-ports-1', 'app: conflicting-ports', '  - {name: tcp, port: 9080, targetPort: 9080}\n'),
  ].join('---\n');
  const diags = run(yaml);
  assert.deepEqual(diags.map(where), ['IST0137 Warning conflicting-ports metadata.name line 11']);
  assert.equal(diags[0]?.message,
    'This deployment conflicting-ports is associated with multiple services [bookinfo/conflicting-ports-1 bookinfo/conflicting-ports-2] using targetPort "9080" but different ports: [9080 9090].');
});

test('a named targetPort is compared by name; an unset one is the port', () => {
  const yaml = [
    INJECTED_NS,
    deployment('web', 'web'),
    service('web-a', 'app: web', '  - {name: http, port: 80, targetPort: http}\n  - {name: http-admin, port: 9000}\n'),
    service('web-b', 'app: web', '  - {name: http, port: 8080, targetPort: http}\n  - {name: http-admin, port: 9001, targetPort: 9000}\n'),
  ].join('---\n');
  assert.deepEqual(run(yaml).map((d) => d.message.replace(/^This deployment web is associated with multiple services /, '')), [
    '[bookinfo/web-a bookinfo/web-b] using targetPort "9000" but different ports: [9000 9001].',
    '[bookinfo/web-a bookinfo/web-b] using targetPort "http" but different ports: [80 8080].',
  ]);
});

test('Services on different ports, a Deployment with no Service, or a Service without selector report nothing', () => {
  const yaml = [
    INJECTED_NS,
    deployment('reviews-v2', 'reviews'),
    service('reviews-http-9080', 'app: reviews', '  - {name: http, port: 9080}\n'),
    service('reviews-http-9090', 'app: reviews', '  - {name: http, port: 9090}\n'),
    deployment('no-services', 'ratings'),
    service('svc-no-selector', '', '  - {name: https, port: 9080, protocol: UDP}\n  - {name: https-b, port: 9999, targetPort: 9080}\n'),
  ].join('---\n');
  assert.deepEqual(run(yaml), []);
});

test('only Deployments in the mesh are checked: injection label, annotation, namespace label', () => {
  const conflicting = (ns: string): string[] => [
    service('tcp', 'app: p', '  - {name: tcp, port: 9080}\n', ns),
    service('udp', 'app: p', '  - {name: udp, port: 9080, protocol: UDP}\n', ns),
  ];
  // Opted out by annotation in an injected namespace (deployment-out-mesh).
  const outOfMesh = deployment('out', 'p', { template: '      annotations:\n        sidecar.istio.io/inject: "false"\n' });
  assert.deepEqual(run([INJECTED_NS, outOfMesh, ...conflicting('bookinfo')].join('---\n')), []);
  // Opted in by annotation in a namespace without the label (ann-enabled-ns-disabled).
  const plainNs = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: injection-disabled-ns\n';
  const optedIn = deployment('ann-enabled-ns-disabled', 'p', { namespace: 'injection-disabled-ns', template: '      annotations:\n        sidecar.istio.io/inject: "true"\n' });
  assert.deepEqual(run([plainNs, optedIn, ...conflicting('injection-disabled-ns')].join('---\n')).map((d) => `${d.code} ${d.origin?.name}`), ['IST0116 ann-enabled-ns-disabled']);
  // No Namespace resource: Istio cannot tell, and treats the Deployment as outside the mesh.
  assert.deepEqual(run([deployment('unknown-ns', 'p', { namespace: 'elsewhere' }), ...conflicting('elsewhere')].join('---\n')), []);
  // A waypoint Deployment is Istio's own.
  const waypoint = deployment('test-waypoint', 'p', { labels: '  labels:\n    gateway.istio.io/managed: istio.io-mesh-controller\n' });
  assert.deepEqual(run([INJECTED_NS, waypoint, ...conflicting('bookinfo')].join('---\n')), []);
});

test('Services in another namespace do not select the Deployment (deployment-multi-service-different-ns)', () => {
  const yaml = [
    INJECTED_NS,
    INJECTED_NS.replace('name: bookinfo', 'name: bookinfo2'),
    deployment('conflicting-ports', 'conflicting-ports'),
    service('conflicting-ports-1', 'app: conflicting-ports', '  - {name: tcp, port: 9080, targetPort: 9080}\n'),
    service('conflicting-ports-1', 'app: conflicting-ports', '  - {name: http, port: 9090, targetPort: 9080}\n', 'bookinfo2'),
  ].join('---\n');
  assert.deepEqual(run(yaml), []);
});
