import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, type Diagnostic } from '../../lib/diagnostic.js';
import { repoPath, sharedPath } from '../../lib/repo.js';
import { readSources } from '../files.js';
import { loadResources } from '../load.js';
import { analyzeResources } from './index.js';
import { analyzeYaml } from './test-helpers.js';
import { destinationHostAnalyzer } from './destination-hosts.js';
import { destinationSubsetAnalyzer } from './destination-subsets.js';
import { virtualServiceGatewayAnalyzer } from './virtual-service-gateways.js';
import { conflictingMeshGatewayHostsAnalyzer } from './conflicting-mesh-gateway-hosts.js';
import { jwtClaimRouteAnalyzer } from './jwt-claim-route.js';
import { routeWeightsAnalyzer } from './route-weights.js';

const lineOf = (yaml: string, marker: string): number => yaml.split('\n').findIndex((l) => l.includes(marker)) + 1;
const summary = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.code} ${d.origin?.namespace}/${d.origin?.name} ${d.message}`);

// Modelled on Istio's testdata/virtualservice_destinationhosts.yaml.
const PLATFORM = `
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: default }
spec:
  ports: [{ port: 42, name: tcp-test }]
---
apiVersion: v1
kind: Service
metadata: { name: reviews-2port, namespace: default }
spec:
  ports: [{ port: 80, name: http-test }, { port: 443, name: https-test }]
---
apiVersion: v1
kind: Service
metadata:
  name: details
  namespace: default
  annotations: { networking.istio.io/exportTo: banana }
spec:
  ports: [{ port: 9080, name: http }]
---
apiVersion: v1
kind: Service
metadata:
  name: hello
  namespace: hello
  annotations: { networking.istio.io/exportTo: "hello1, hello2,." }
spec:
  ports: [{ port: 9080, name: http }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: external-reviews, namespace: default }
spec:
  hosts: [external-reviews.org]
  ports: [{ number: 443, name: tls, protocol: TLS }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: eu-wildcard, namespace: default }
spec:
  hosts: ["*.eu.bookinfo.com"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: other, namespace: other }
spec:
  exportTo: ["."]
  hosts: [other.bookinfo.com]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: exported, namespace: other }
spec:
  exportTo: [default]
  hosts: [abc.bookinfo.com]
`;

function vs(name: string, namespace: string, route: string, extra = ''): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${name}.example.com]${extra}
  http:
  - route:
${route}
`;
}

test('destinations that name visible hosts are not reported (Istio: virtualServiceDestinationHosts clean cases)', () => {
  const yaml = PLATFORM
    + vs('short', 'default', '    - destination: { host: reviews }')
    + vs('fqdn', 'default', '    - destination: { host: reviews.default.svc.cluster.local }')
    + vs('external', 'default', '    - destination: { host: external-reviews.org }')
    + vs('eu', 'default', '    - destination: { host: reviews.eu.bookinfo.com }')
    + vs('eu-wildcard', 'default', '    - destination: { host: "*.eu.bookinfo.com" }')
    + vs('two-ports', 'default', '    - destination: { host: reviews-2port, port: { number: 80 } }')
    + vs('cross', 'istio-system', '    - destination: { host: reviews.default.svc.cluster.local }')
    + vs('banana', 'banana', '    - destination: { host: details.default.svc.cluster.local }')
    + vs('hello', 'hello1', '    - destination: { host: hello.hello.svc.cluster.local }')
    + vs('hello', 'hello', '    - destination: { host: hello.hello.svc.cluster.local }')
    + vs('exported-se', 'default', '    - destination: { host: abc.bookinfo.com }')
    + vs('gateway-svc', 'default', '    - destination: { host: istio-ingressgateway.istio-system.svc.cluster.local, port: { number: 80 } }');
  assert.deepEqual(summary(analyzeYaml(yaml, [destinationHostAnalyzer])), []);
});

test('an unknown destination host is IST0101 at the host, with file, line and path', () => {
  const yaml = PLATFORM + vs('bogus', 'default', '    - destination: { host: reviews-bogus } # here');
  const [d, ...rest] = analyzeYaml(yaml, [destinationHostAnalyzer]);
  assert.equal(rest.length, 0);
  assert.equal(d?.code, 'IST0101');
  assert.equal(d?.level, 'Error');
  assert.equal(d?.message, 'Referenced host not found: "reviews-bogus"');
  assert.equal(d?.location?.path, 'spec.http[0].route[0].destination.host');
  assert.equal(d?.location?.line, lineOf(yaml, '# here'));
});

test('exportTo decides visibility (Istio: other.bookinfo.com, cross-namespace-details, hello-export-to-bogus)', () => {
  const yaml = PLATFORM
    + vs('se-other-ns', 'default', '    - destination: { host: other.bookinfo.com }')
    + vs('details', 'istio-system', '    - destination: { host: details.default.svc.cluster.local }')
    + vs('bogus-export', 'hello', '    - destination: { host: hello.hello.svc.cluster.local }', '\n  exportTo: [bogus]');
  assert.deepEqual(summary(analyzeYaml(yaml, [destinationHostAnalyzer])), [
    'IST0101 default/se-other-ns Referenced host not found: "other.bookinfo.com"',
    'IST0101 istio-system/details Referenced host not found: "details.default.svc.cluster.local"',
    'IST0101 hello/bogus-export Referenced host not found: "hello.hello.svc.cluster.local"',
  ]);
});

test('mirror and mirrors hosts are checked too (Istio: reviews-mirror-bogushost)', () => {
  const yaml = PLATFORM + `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: mirror, namespace: default }
spec:
  hosts: [mirror.example.com]
  http:
  - route:
    - destination: { host: reviews }
    mirror: { host: reviews-bogus }
  - route:
    - destination: { host: reviews }
    mirrors:
    - destination: { host: reviews }
    - destination: { host: mirror-bogus } # mirrors
`;
  const ds = analyzeYaml(yaml, [destinationHostAnalyzer]);
  assert.deepEqual(summary(ds), [
    'IST0101 default/mirror Referenced mirror host not found: "reviews-bogus"',
    'IST0101 default/mirror Referenced mirror host not found: "mirror-bogus"',
  ]);
  assert.equal(ds[0]?.location?.path, 'spec.http[0].mirror.host');
  assert.equal(ds[1]?.location?.path, 'spec.http[1].mirrors[1].destination.host');
  assert.equal(ds[1]?.location?.line, lineOf(yaml, '# mirrors'));
});

test('a port the service lacks is IST0101 host:port; no port on a multi-port service is IST0112', () => {
  const yaml = PLATFORM
    + vs('bogus-port', 'default', '    - destination: { host: reviews, port: { number: 999 } }')
    + vs('two-ports', 'default', '    - destination: { host: reviews-2port } # two')
    + `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tcp, namespace: default }
spec:
  hosts: [tcp.example.com]
  tcp:
  - route:
    - destination: { host: reviews-2port }
  tls:
  - match: [{ sniHosts: [tcp.example.com] }]
    route:
    - destination: { host: external-reviews.org, port: { number: 8443 } }
`;
  const ds = analyzeYaml(yaml, [destinationHostAnalyzer]);
  assert.deepEqual(summary(ds), [
    'IST0101 default/bogus-port Referenced host:port not found: "reviews:999"',
    'IST0112 default/two-ports This VirtualService routes to a service "reviews-2port" that exposes multiple ports [80 443]. Specifying a port in the destination is required to disambiguate.',
    'IST0112 default/tcp This VirtualService routes to a service "reviews-2port" that exposes multiple ports [80 443]. Specifying a port in the destination is required to disambiguate.',
    'IST0101 default/tcp Referenced host:port not found: "external-reviews.org:8443"',
  ]);
  assert.equal(ds[1]?.level, 'Error');
  assert.equal(ds[1]?.location?.line, lineOf(yaml, '# two'));
  assert.equal(ds[2]?.location?.path, 'spec.tcp[0].route[0].destination.host');
  assert.equal(ds[3]?.location?.path, 'spec.tls[0].route[0].destination.host');
});

test('a gateway route without subset to a host a mesh VirtualService splits by subset is IST0140 (Istio: Route Rule no effect on Ingress)', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: default }
spec:
  ports: [{ port: 80, name: http }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ingress, namespace: default }
spec:
  gateways: [istio-system/gw]
  hosts: [testing-01.com]
  http:
  - route:
    - destination: { host: ratings } # no subset
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ingress-subset, namespace: default }
spec:
  gateways: [istio-system/gw]
  hosts: [testing-02.com]
  http:
  - route:
    - destination: { host: ratings, subset: v1 }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings, namespace: default }
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: { host: ratings, subset: v1 }
      weight: 50
    - destination: { host: ratings.default.svc.cluster.local, subset: v2 }
      weight: 50
`;
  const ds = analyzeYaml(yaml, [destinationHostAnalyzer]);
  assert.deepEqual(summary(ds), ['IST0140 default/ingress Subset in virtual service default/ratings has no effect on ingress gateway default/ingress requests']);
  assert.equal(ds[0]?.level, 'Warning');
  assert.equal(ds[0]?.location?.line, lineOf(yaml, '# no subset'));
});

test('the bookinfo samples with the bookinfo platform give no Error from the VirtualService analyzers', () => {
  const sources = readSources([repoPath('src', 'resources', 'testdata', 'bookinfo', 'platform.yaml'), sharedPath('istio-samples', 'bookinfo-networking')]);
  const loaded = loadResources(sources, { duplicates: 'last-wins' });
  assert.deepEqual(loaded.diagnostics.filter((d) => d.level === 'Error').map(formatDiagnostic), []);
  const analyzers = [destinationHostAnalyzer, destinationSubsetAnalyzer, virtualServiceGatewayAnalyzer, conflictingMeshGatewayHostsAnalyzer, jwtClaimRouteAnalyzer, routeWeightsAnalyzer];
  const ds = analyzeResources(loaded.resources, { analyzers });
  assert.deepEqual(ds.filter((d) => d.level === 'Error').map(formatDiagnostic), []);
  // Istio warns here too: the bookinfo gateway route skips productpage's subset routing.
  assert.ok(ds.every((d) => d.code === 'IST0140'), ds.map(formatDiagnostic).join('\n'));
});
