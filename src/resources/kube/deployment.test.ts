import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';
import type { ResourceOf } from '../kinds.js';
import { selectorMatches } from './deployment.js';

function load(text: string) {
  return loadResources([{ file: 'deploy.yaml', text }]);
}

function errors(text: string): string[] {
  return load(text).diagnostics.map((d) => `${d.location?.line} ${d.level} ${d.location?.path}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

const minimal = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: details-v1
spec:
  selector:
    matchLabels:
      app: details
  template:
    metadata:
      labels:
        app: details
        version: v1
    spec:
      containers:
      - name: details
        image: docker.io/istio/examples-bookinfo-details-v1:1.20.2
`;

test('Kubernetes defaults are exposed: one replica, rolling update, service account "default"', () => {
  const r = load(minimal);
  assert.deepEqual(r.diagnostics, []);
  const d = r.resources[0] as ResourceOf<'Deployment'>;
  assert.equal(d.spec.replicas, 1);
  assert.equal(d.spec.strategy.type, 'RollingUpdate');
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  assert.equal(d.spec.paused, false);
  const pod = d.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'default');
  assert.equal(pod.restartPolicy, 'Always');
  assert.equal(pod.terminationGracePeriodSeconds, 30);
  assert.equal(pod.hostNetwork, false);
  assert.equal(pod.containers[0]?.image, 'docker.io/istio/examples-bookinfo-details-v1:1.20.2');
});

test('the deprecated serviceAccount alias fills serviceAccountName', () => {
  const r = load(minimal.replace('      containers:', '      serviceAccount: bookinfo-details\n      containers:'));
  assert.deepEqual(r.diagnostics, []);
  const d = r.resources[0] as ResourceOf<'Deployment'>;
  assert.equal(d.spec.template.spec.serviceAccountName, 'bookinfo-details');
});

test('a Deployment needs a spec and a selector', () => {
  assert.deepEqual(errors(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: details-v1
`), ['1 Error spec: missing required field "spec"']);
  assert.deepEqual(errors(minimal.replace(/  selector:\n    matchLabels:\n      app: details\n/, '')), ['6 Error spec.selector: missing required field "selector"']);
});

test('the selector must match the template labels', () => {
  assert.deepEqual(errors(minimal.replace('      app: details\n  template', '      app: reviews\n  template')), [
    '12 Error spec.template.metadata.labels: `selector` does not match template `labels`',
  ]);
  assert.deepEqual(errors(minimal.replace('    matchLabels:\n      app: details\n', '    matchLabels: {}\n')), [
    '7 Error spec.selector: empty selector is invalid for deployment',
  ]);
});

test('matchExpressions select and are checked', () => {
  const withExpressions = minimal.replace('    matchLabels:\n      app: details\n', `    matchExpressions:
    - key: app
      operator: In
      values: [details, ratings]
    - key: canary
      operator: DoesNotExist
`);
  assert.deepEqual(load(withExpressions).diagnostics, []);
  assert.deepEqual(errors(withExpressions.replace('values: [details, ratings]', 'values: []')), [
    "10 Error spec.selector.matchExpressions[0].values: must be specified when `operator` is 'In' or 'NotIn'",
  ]);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] }, { version: 'v2' }), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'version', operator: 'Exists' }] }, { app: 'x' }), false);
});

test('pods of a Deployment always restart; strategy bounds are checked', () => {
  assert.deepEqual(errors(minimal.replace('      containers:', '      restartPolicy: Never\n      containers:')), [
    '15 Error spec.template.spec.restartPolicy: unsupported value "Never"; a Deployment\'s pods must use Always',
  ]);
  assert.deepEqual(errors(minimal.replace('  template:', `  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 0
      maxUnavailable: 0%
  template:`)), ['13 Error spec.strategy.rollingUpdate.maxUnavailable: may not be 0 when `maxSurge` is 0']);
  assert.deepEqual(errors(minimal.replace('  template:', `  strategy:
    type: Recreate
    rollingUpdate:
      maxSurge: 1
  template:`)), ["12 Error spec.strategy.rollingUpdate: may not be specified when strategy `type` is 'Recreate'"]);
});

test('containers are required, and their names are unique DNS labels', () => {
  assert.deepEqual(errors(minimal.replace(/      containers:\n[\s\S]*$/, '      containers: []\n')), [
    '15 Error spec.template.spec.containers: a pod needs at least one container',
  ]);
  const found = errors(minimal.replace('      containers:', `      initContainers:
      - name: details
        image: busybox
        command: [sh, -c, "true"]
      containers:
      - name: Details_Sidecar
        image: busybox`));
  assert.deepEqual(found.map((e) => e.split(':')[0]), [
    '20 Error spec.template.spec.containers[0].name',
    '22 Error spec.template.spec.containers[1].name',
  ]);
  assert.match(found[0] ?? '', /RFC 1123 label/);
  assert.match(found[1] ?? '', /duplicate container name "details"/);
});

test('an unknown pod spec field is an error, known but untyped ones are accepted', () => {
  assert.deepEqual(errors(minimal.replace('      containers:', `      tolerations:
      - key: dedicated
        operator: Exists
      affinity:
        nodeAffinity: {}
      nodeSelector:
        kubernetes.io/os: linux
      hostAlias: []
      containers:`)), ['22 Error spec.template.spec.hostAlias: unknown field "hostAlias"']);
});

test('status from kubectl get -o yaml is accepted', () => {
  assert.deepEqual(load(`${minimal}status:
  observedGeneration: 3
  replicas: 1
  readyReplicas: 1
  availableReplicas: 1
  updatedReplicas: 1
  conditions:
  - type: Available
    status: "True"
`).diagnostics, []);
});

/**
 * In the style of Istio's samples/bookinfo/platform/kube/bookinfo.yaml (which is not in the shared
 * folder): Service, ServiceAccount and Deployment per service, with volumes and securityContext.
 */
const bookinfo = `# Details service
apiVersion: v1
kind: Service
metadata:
  name: details
  labels:
    app: details
    service: details
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: details
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: bookinfo-details
  labels:
    account: details
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: details-v1
  labels:
    app: details
    version: v1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: details
      version: v1
  template:
    metadata:
      labels:
        app: details
        version: v1
    spec:
      serviceAccountName: bookinfo-details
      containers:
      - name: details
        image: docker.io/istio/examples-bookinfo-details-v1:1.20.2
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 9080
---
# Reviews service
apiVersion: v1
kind: Service
metadata:
  name: reviews
  labels:
    app: reviews
    service: reviews
spec:
  ports:
  - port: 9080
    name: http
  selector:
    app: reviews
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: bookinfo-reviews
  labels:
    account: reviews
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews-v2
  labels:
    app: reviews
    version: v2
spec:
  replicas: 1
  selector:
    matchLabels:
      app: reviews
      version: v2
  template:
    metadata:
      labels:
        app: reviews
        version: v2
    spec:
      serviceAccountName: bookinfo-reviews
      containers:
      - name: reviews
        image: docker.io/istio/examples-bookinfo-reviews-v2:1.20.2
        imagePullPolicy: IfNotPresent
        env:
        - name: LOG_DIR
          value: "/tmp/logs"
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        ports:
        - containerPort: 9080
        volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: wlp-output
          mountPath: /opt/ibm/wlp/output
        securityContext:
          runAsUser: 1000
      volumes:
      - name: wlp-output
        emptyDir: {}
      - name: tmp
        emptyDir: {}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: productpage-v1
  labels:
    app: productpage
    version: v1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: productpage
      version: v1
  template:
    metadata:
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9080"
        prometheus.io/path: "/metrics"
      labels:
        app: productpage
        version: v1
    spec:
      serviceAccountName: bookinfo-productpage
      containers:
      - name: productpage
        image: docker.io/istio/examples-bookinfo-productpage-v1:1.20.2
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 9080
        volumeMounts:
        - name: tmp
          mountPath: /tmp
        resources:
          requests:
            cpu: 10m
            memory: 64Mi
          limits:
            cpu: 1
            memory: 256Mi
      volumes:
      - name: tmp
        emptyDir: {}
`;

test('a bookinfo-style multi-document manifest loads clean', () => {
  const r = loadResources([{ file: 'bookinfo.yaml', text: bookinfo }]);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.resources.map((x) => `${x.kind}/${x.metadata.name}`), [
    'Service/details', 'ServiceAccount/bookinfo-details', 'Deployment/details-v1',
    'Service/reviews', 'ServiceAccount/bookinfo-reviews', 'Deployment/reviews-v2', 'Deployment/productpage-v1',
  ]);
  const reviews = r.resources[5] as ResourceOf<'Deployment'>;
  const c = reviews.spec.template.spec.containers[0];
  assert.equal(c?.imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(c?.ports, [{ containerPort: 9080, protocol: 'TCP' }]);
  assert.equal(c?.env?.[1]?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
  assert.deepEqual(c?.securityContext, { runAsUser: 1000 });
  const productpage = r.resources[6] as ResourceOf<'Deployment'>;
  const resources = productpage.spec.template.spec.containers[0]?.resources;
  assert.equal(resources?.requests?.cpu, 0.01);
  assert.equal(resources?.limits?.memory, 256 * 2 ** 20);
});

test('nulls mean "not set", as Kubernetes decodes them (Helm output)', () => {
  assert.deepEqual(load(minimal.replace('  template:', `  strategy:
    type: Recreate
    rollingUpdate: null
  template:`)).diagnostics, []);
});
