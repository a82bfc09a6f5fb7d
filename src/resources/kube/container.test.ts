import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources } from '../load.js';
import type { ResourceOf } from '../kinds.js';
import type { Container } from './container.js';
import { compareDiagnostics } from '../../lib/diagnostic.js';

/** A Deployment whose only container is `body` (indented as a container's fields). */
function deployment(body: string, podExtra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
${podExtra}      containers:
      - name: app
        image: example/app:1
${body}`;
}

function container(body: string, podExtra = ''): Container {
  const r = loadResources([{ file: 'c.yaml', text: deployment(body, podExtra) }]);
  assert.deepEqual(r.diagnostics, []);
  const c = (r.resources[0] as ResourceOf<'Deployment'>).spec.template.spec.containers[0];
  assert.ok(c);
  return c;
}

function errors(body: string, podExtra = ''): string[] {
  const r = loadResources([{ file: 'c.yaml', text: deployment(body, podExtra) }]);
  return [...r.diagnostics].sort(compareDiagnostics).map((d) => `${d.location?.line} ${d.level} ${(d.location?.path ?? '').replace('spec.template.spec.containers[0].', '')}: ${d.message.replace(/^Schema validation (error|warning): /, '')}`);
}

test('downward API environment variables', () => {
  const c = container(`        env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
        - name: SERVICE_ACCOUNT
          valueFrom:
            fieldRef:
              fieldPath: spec.serviceAccountName
        - name: INSTANCE_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        - name: APP
          valueFrom:
            fieldRef:
              fieldPath: metadata.labels['app.kubernetes.io/name']
        - name: MEMORY_MB
          valueFrom:
            resourceFieldRef:
              resource: limits.memory
              divisor: 1Mi
`);
  assert.equal(c.env?.[0]?.valueFrom?.fieldRef?.apiVersion, 'v1');
  assert.equal(c.env?.[3]?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
  assert.equal(c.env?.[5]?.valueFrom?.resourceFieldRef?.divisor, 2 ** 20);
});

test('unsupported downward API paths and bad env names', () => {
  assert.deepEqual(errors(`        env:
        - name: NODE
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeIP
        - name: LABELS
          valueFrom:
            fieldRef:
              fieldPath: metadata.labels
        - name: A=B
          value: x
`).map((e) => e.split(';')[0]), [
    '21 Error env[0].valueFrom.fieldRef.fieldPath: unsupported value "spec.nodeIP"',
    '25 Error env[1].valueFrom.fieldRef.fieldPath: unsupported value "metadata.labels"',
    "26 Error env[2].name: invalid environment variable name \"A=B\": must consist only of printable ASCII characters other than '='",
  ]);
});

test('value and valueFrom exclude each other; repeated names warn', () => {
  assert.deepEqual(errors(`        env:
        - name: A
          value: x
          valueFrom:
            secretKeyRef:
              name: creds
              key: password
        - name: A
          value: y
`), [
    '21 Error env[0].valueFrom: may not be specified when `value` is not empty',
    '24 Warning env[1]: hides previous definition of "A", which may be dropped when using apply',
  ]);
});

test('probes get Kubernetes defaults', () => {
  const c = container(`        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            port: http
        livenessProbe:
          tcpSocket:
            port: 8080
          periodSeconds: 0
          failureThreshold: 5
        startupProbe:
          exec:
            command: [cat, /tmp/ready]
`);
  assert.deepEqual(c.readinessProbe, {
    httpGet: { path: '/', port: 'http', scheme: 'HTTP' },
    initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3,
  });
  assert.equal(c.livenessProbe?.periodSeconds, 10);
  assert.equal(c.livenessProbe?.failureThreshold, 5);
  assert.deepEqual(c.startupProbe?.exec?.command, ['cat', '/tmp/ready']);
});

test('a probe needs exactly one handler', () => {
  assert.deepEqual(errors(`        readinessProbe:
          periodSeconds: 5
        livenessProbe:
          httpGet:
            port: 8080
          tcpSocket:
            port: 8080
`), [
    '18 Error readinessProbe: must specify a handler type (one of exec, httpGet, tcpSocket, grpc)',
    '23 Error livenessProbe.tcpSocket: may not specify more than 1 handler type (found httpGet and tcpSocket)',
  ]);
});

test('liveness successThreshold must be 1; probe ports are checked', () => {
  assert.deepEqual(errors(`        livenessProbe:
          httpGet:
            port: 0
          successThreshold: 2
        readinessProbe:
          tcpSocket:
            port: admin
`), [
    '19 Error livenessProbe.httpGet.port: invalid value 0: must be between 1 and 65535, inclusive',
    '20 Error livenessProbe.successThreshold: must be 1',
    '23 Warning readinessProbe.tcpSocket.port: port name "admin" is not a port of this container; the probe will fail',
  ]);
});

test('container ports: range, IANA names, uniqueness', () => {
  assert.deepEqual(errors(`        ports:
        - containerPort: 0
        - name: http-monitoring-port
          containerPort: 9090
        - name: metrics
          containerPort: 9091
        - name: metrics
          containerPort: 9092
`).map((e) => e.split(':')[0]), [
    '18 Error ports[0].containerPort',
    '19 Error ports[1].name',
    '23 Error ports[3].name',
  ]);
  assert.deepEqual(errors(`        ports:
        - containerPort: 443
          protocol: QUIC
`), ['19 Error ports[0].protocol: unsupported value "QUIC"; expected one of TCP, UDP, SCTP']);
});

test('resources: quantities parsed and checked, requests within limits', () => {
  const c = container(`        resources:
          requests:
            cpu: 100m
            memory: 128Mi
            example.com/gpu: 1
          limits:
            cpu: "2"
            memory: 1Gi
`);
  assert.deepEqual(c.resources?.requests, { cpu: 0.1, memory: 128 * 2 ** 20, 'example.com/gpu': 1 });
  assert.equal(c.resources?.limits?.cpu, 2);
  assert.deepEqual(errors(`        resources:
          requests:
            cpu: 2
            memory: 1GB
            gpu: 1
          limits:
            cpu: 500m
`).map((e) => e.split(':')[0]), [
    '20 Error resources.requests.memory',
  ]);
  assert.deepEqual(errors(`        resources:
          requests:
            cpu: 2
            gpu: 1
          limits:
            cpu: 500m
`), [
    '19 Error resources.requests.cpu: must be less than or equal to cpu limit',
    '20 Error resources.requests.gpu: invalid resource name "gpu": must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or a qualified extended resource name such as example.com/gpu',
  ]);
});

test('init containers: sidecars (restartPolicy Always) may have probes', () => {
  const initContainers = `      initContainers:
      - name: proxy
        image: example/proxy:1
        restartPolicy: Always
        readinessProbe:
          httpGet:
            port: 15021
      - name: setup
        image: busybox
        readinessProbe:
          exec:
            command: ["true"]
`;
  assert.deepEqual(errors('', initContainers).map((e) => e.replace('spec.template.spec.', '')), [
    '24 Error initContainers[1].readinessProbe: may not be set for init containers without restartPolicy=Always',
  ]);
  assert.deepEqual(errors('        restartPolicy: Always\n'), ['17 Error restartPolicy: may not be set for non-init containers']);
});

test('volume mounts must name a volume of the pod', () => {
  assert.deepEqual(errors(`        volumeMounts:
        - name: config
          mountPath: /etc/app
        - name: cache
          mountPath: /cache
`, `      volumes:
      - name: config
        configMap:
          name: app-config
`), [
    "24 Error volumeMounts[1].name: volume \"cache\" not found in the pod's volumes",
  ]);
});

test('hostNetwork pods must use hostPort = containerPort', () => {
  assert.deepEqual(errors(`        ports:
        - containerPort: 8080
          hostPort: 80
`, '      hostNetwork: true\n'), [
    '20 Error ports[0].hostPort: must match `containerPort` when `hostNetwork` is true',
  ]);
});

test('untyped container fields are accepted, unknown names are not', () => {
  container(`        imagePullPolicy: Always
        workingDir: /app
        command: [node]
        args: [server.js]
        stdin: true
        tty: true
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
        securityContext:
          runAsUser: 1000
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        lifecycle:
          preStop:
            exec:
              command: [sleep, "5"]
        envFrom:
        - configMapRef:
            name: app-config
          prefix: APP_
`);
  assert.deepEqual(errors('        imagePullPolicy: Sometimes\n        volumeMount: []\n'), [
    '17 Error imagePullPolicy: unsupported value "Sometimes"; expected one of Always, IfNotPresent, Never',
    '18 Error volumeMount: unknown field "volumeMount"',
  ]);
});
