import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources, type AnyResource, type ResourceOf } from '../../resources/index.js';
import { planPod, type PlanInput } from './plan.js';

function load(text: string): AnyResource[] {
  const r = loadResources([{ file: 'test.yaml', text }]);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.resources;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata:
      labels: {app: reviews, version: v1}
    spec:
      serviceAccountName: bookinfo-reviews
      containers:
      - name: reviews
        image: node
        command: [weft, demo, reviews]
        args: [--port, $(PORT)]
        env:
        - {name: PORT, value: "9080"}
        - name: MY_POD
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: MY_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        - name: MY_SA
          valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
        ports: [{containerPort: 9080}]
`;

function input(resources: AnyResource[], namespaceLabels: Record<string, string>, extra: Partial<PlanInput> = {}): PlanInput {
  const deployment = resources.find((r): r is ResourceOf<'Deployment'> => r.kind === 'Deployment');
  assert.ok(deployment);
  return {
    deployment, podName: 'reviews-v1-abc-xyz12', uid: 'u1', templateHash: 'abc', namespaceLabels,
    network: { ip: '127.9.0.1', appAddress: '127.9.0.2', wrap: (c, a) => [c, [...a]] }, mode: 'plain',
    operators: resources.filter((r): r is ResourceOf<'IstioOperator'> => r.kind === 'IstioOperator'),
    services: resources.filter((r): r is ResourceOf<'Service'> => r.kind === 'Service'),
    storeDir: '/home/store', controlPlaneStateDir: (rev) => `/home/cp/${rev || 'default'}`, caDir: '/home/ca', podDir: '/home/pods/p',
    weft: { node: '/usr/bin/node', main: '/weft/main.js' },
    controlPlaneAddresses: (rev) => (rev === '' ? ['127.9.0.10:15012'] : []),
    controlPlaneSan: (rev) => (rev === '' ? 'istiod.istio-system.svc' : `istiod-${rev}.istio-system.svc`),
    meshRootCert: () => 'ROOT PEM\n',
    mintToken: (rev, id, sa) => `token(${rev},${id},${sa})`, baseEnv: { PATH: '/bin' },
    ...extra,
  };
}

test('an uninjected pod runs its command with the downward API and binds its own address', () => {
  const plan = planPod(input(load(DEPLOYMENT), {}));
  assert.equal(plan.proxy, undefined);
  assert.equal(plan.revision, undefined);
  const c = plan.containers[0];
  assert.ok(c);
  assert.equal(c.command, '/usr/bin/node');
  assert.deepEqual(c.args, ['/weft/main.js', 'demo', 'reviews', '--port', '9080']);
  assert.equal(c.env.MY_POD, 'reviews-v1-abc-xyz12');
  assert.equal(c.env.MY_IP, '127.9.0.1');
  assert.equal(c.env.MY_SA, 'bookinfo-reviews');
  assert.equal(c.env.WEFT_BIND_ADDRESS, '127.9.0.1');
  assert.equal(c.env.HTTP_PROXY, undefined);
  assert.equal((plan.spec.containers as unknown[]).length, 1);
});

test('istio-injection=enabled adds istio-proxy with identity, token and inbound port map; the app binds behind it', () => {
  const plan = planPod(input(load(DEPLOYMENT), { 'istio-injection': 'enabled' }));
  assert.equal(plan.revision, '');
  assert.equal(plan.proxy?.role, 'sidecar');
  const args = plan.proxy?.args ?? [];
  assert.deepEqual(args.slice(0, 3), ['/weft/main.js', 'proxy', '--control-plane']);
  assert.equal(args[args.indexOf('--control-plane') + 1], '127.9.0.10:15012');
  assert.equal(args[args.indexOf('--root-cert') + 1], '/home/pods/p/root-cert.pem');
  assert.equal(args[args.indexOf('--control-plane-san') + 1], 'istiod.istio-system.svc');
  assert.equal(plan.files.find((f) => f.path === '/home/pods/p/root-cert.pem')?.content, 'ROOT PEM\n', 'the mesh root is mounted in the pod');
  assert.equal(args[args.indexOf('--bind') + 1], '127.9.0.1');
  assert.equal(args[args.indexOf('--inbound-port-map') + 1], '9080=9080');
  const node = JSON.parse(plan.files.find((f) => f.path.endsWith('node.json'))?.content ?? '{}') as Record<string, unknown>;
  assert.deepEqual(node, {
    id: 'reviews-v1-abc-xyz12.shop', role: 'sidecar', namespace: 'shop', workload: 'reviews-v1',
    labels: { app: 'reviews', version: 'v1', 'pod-template-hash': 'abc' }, serviceAccount: 'bookinfo-reviews', ip: '127.9.0.1', revision: '',
  });
  assert.equal(plan.files.find((f) => f.path.endsWith('token'))?.content, 'token(,reviews-v1-abc-xyz12.shop,bookinfo-reviews)\n');
  assert.equal(plan.files.find((f) => f.path.endsWith('bootstrap.json'))?.content, '{"appAddress":"127.9.0.2"}');
  const app = plan.containers[0];
  assert.equal(app?.env.WEFT_BIND_ADDRESS, '127.9.0.2');
  assert.equal(app?.env.HTTP_PROXY, 'http://127.9.0.1:15001');
  assert.equal(app?.env.http_proxy, 'http://127.9.0.1:15001');
  assert.deepEqual((plan.spec.containers as { name: string }[]).map((c) => c.name), ['reviews', 'istio-proxy']);
});

test('an injected pod waits for the mesh root certificate, as a pod waits for its ConfigMap volume', () => {
  const plan = planPod(input(load(DEPLOYMENT), { 'istio-injection': 'enabled' }, { meshRootCert: () => undefined }));
  assert.equal(plan.waitingFor, 'the mesh root certificate');
  assert.equal(plan.files.some((f) => f.path.endsWith('root-cert.pem')), false);
});

test("Istio's precedence: the pod's label beats the namespace; istio-injection beats istio.io/rev", () => {
  const optedOut = DEPLOYMENT.replace('labels: {app: reviews, version: v1}', 'labels: {app: reviews, version: v1, sidecar.istio.io/inject: "false"}');
  assert.equal(planPod(input(load(optedOut), { 'istio-injection': 'enabled' })).proxy, undefined);
  assert.equal(planPod(input(load(DEPLOYMENT), { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' })).proxy, undefined);
  const canary = planPod(input(load(DEPLOYMENT), { 'istio.io/rev': 'canary' }));
  assert.equal(canary.revision, 'canary');
  assert.equal(canary.waitingFor, 'the control plane of revision canary', 'no canary control plane is running');
});

test('the proxy memory limit comes from the revision\'s IstioOperator and becomes the heap limit', () => {
  const operator = `---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: installed-state, namespace: istio-system}
spec:
  values:
    global:
      proxy:
        resources:
          limits: {memory: 100Mi}
`;
  const plan = planPod(input(load(DEPLOYMENT + operator), { 'istio-injection': 'enabled' }));
  assert.equal(plan.proxyMemoryLimitBytes, 100 * 1024 * 1024);
  assert.ok(plan.proxy?.args.includes('--max-old-space-size=75'));
  const raw = (plan.spec.containers as { name: string; resources?: { limits?: Record<string, string> } }[]).find((c) => c.name === 'istio-proxy');
  assert.equal(raw?.resources?.limits?.memory, String(100 * 1024 * 1024));
  // The pod's annotation wins over the install.
  const annotated = DEPLOYMENT.replace('labels: {app: reviews, version: v1}', 'labels: {app: reviews, version: v1}\n      annotations: {sidecar.istio.io/proxyMemoryLimit: 64Mi}');
  assert.equal(planPod(input(load(annotated + operator), { 'istio-injection': 'enabled' })).proxyMemoryLimitBytes, 64 * 1024 * 1024);
});

test('control plane pods get the runtime\'s arguments and are never injected', () => {
  const cp = load(`apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod-canary, namespace: istio-system}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata:
      labels: {app: istiod, istio.io/rev: canary}
    spec:
      containers:
      - name: discovery
        image: weft
        command: [weft, control-plane]
        args: [--port, "15010"]
`);
  const plan = planPod(input(cp, { 'istio-injection': 'enabled' }, { podName: 'istiod-canary-x-y' }));
  assert.equal(plan.proxy, undefined);
  assert.equal(plan.containers[0]?.role, 'control-plane');
  assert.deepEqual(plan.containers[0]?.args, ['/weft/main.js', 'control-plane', '--port', '15010', '--config', '/home/store',
    '--state-dir', '/home/cp/canary', '--ca-dir', '/home/ca', '--bind', '127.9.0.1', '--replica-id', 'istiod-canary-x-y', '--namespace', 'istio-system']);
});

test('a gateway\'s istio-proxy with image auto becomes a gateway proxy serving the Service\'s target ports', () => {
  const gw = load(`apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-egressgateway, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: egressgateway}}
  template:
    metadata:
      labels: {app: istio-egressgateway, istio: egressgateway}
    spec:
      containers:
      - name: istio-proxy
        image: auto
---
apiVersion: v1
kind: Service
metadata: {name: istio-egressgateway, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  ports:
  - {name: http2, port: 80, targetPort: 8081}
  - {name: https, port: 443, targetPort: 8443}
`);
  const plan = planPod(input(gw, {}));
  assert.equal(plan.proxy?.role, 'gateway');
  const args = plan.proxy?.args ?? [];
  assert.equal(args[args.indexOf('--role') + 1], 'egress-gateway');
  assert.equal(args[args.indexOf('--port-map') + 1], '80=8081,443=8443');
  assert.equal(plan.containers.length, 0);
  assert.deepEqual((plan.spec.containers as { image: string }[]).map((c) => c.image), ['weft/proxy']);
});

test('a container without a command cannot start, and says why', () => {
  const plan = planPod(input(load(DEPLOYMENT.replace('        command: [weft, demo, reviews]\n', '')), {}));
  assert.match(plan.containers[0]?.problem ?? '', /runs commands, not images/);
});
