/**
 * The daemon's API for the CLI: HTTP with JSON bodies over the unix socket in WEFT_HOME (mode
 * 0600: only its owner controls the mesh). Small and explicit: one route per command.
 *
 *   GET  /status                         runtime, control planes, gateways, URLs
 *   POST /apply  {sources}               all-or-nothing apply; 422 with diagnostics
 *   POST /delete {sources}
 *   GET  /objects?kind=&namespace=&name= Kubernetes-shaped objects (a List)
 *   POST /label  {kind, namespace, name, set, remove}
 *   POST /rollout-restart {namespace, name}
 *   GET  /logs?namespace=&pod=&container=
 *   POST /shutdown {purge}
 */
import http from 'node:http';
import { join } from 'node:path';
import type { KindName, ResourceOf, SourceText } from '../resources/index.js';
import { applySources, deleteSources } from './apply.js';
import { readLog } from './pods/logs.js';
import { podObject } from './pods/object.js';
import { resourceKey } from './store.js';
import { templateHash } from './deployments.js';
import type { Daemon } from './daemon.js';
import { statusOf } from './status.js';

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startApiServer(daemon: Daemon, socket: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void handle(daemon, req).then(
      (body) => send(res, 200, body),
      (err: unknown) => send(res, err instanceof HttpError ? err.status : 500, { error: (err as Error).message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return server;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

async function handle(daemon: Daemon, req: http.IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://runtime');
  const q = (k: string) => url.searchParams.get(k) ?? '';
  const route = `${req.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /status':
      return statusOf(daemon);
    case 'POST /apply':
    case 'POST /delete': {
      const sources = sourcesFrom(await readBody(req));
      const outcome = route === 'POST /apply' ? applySources(daemon.store, sources) : deleteSources(daemon.store, sources);
      if (outcome.ok) daemon.changed();
      return outcome;
    }
    case 'GET /objects':
      return { apiVersion: 'v1', kind: 'List', items: objects(daemon, q('kind') as KindName, q('namespace'), q('name')) };
    case 'POST /label':
      return label(daemon, await readBody(req));
    case 'POST /rollout-restart':
      return rolloutRestart(daemon, await readBody(req));
    case 'GET /logs': {
      const pod = daemon.controller.pods.get(`${q('namespace')}/${q('pod')}`);
      if (!pod) throw new HttpError(404, `pods "${q('pod')}" not found in namespace ${q('namespace')}`);
      const names = pod.orderedContainers().map((c) => c.spec.name);
      const container = q('container') || (names.length === 1 ? names[0] : names.find((n) => n !== 'istio-proxy')) || '';
      if (!names.includes(container)) throw new HttpError(400, `container ${JSON.stringify(container)} is not valid for pod ${q('pod')}: choose one of ${names.join(', ')}`);
      return { container, text: readLog(join(daemon.home.logs, pod.namespace, pod.name, `${container}.log`)) };
    }
    case 'POST /shutdown': {
      const body = await readBody(req);
      // Answer first: the socket goes away with the daemon.
      setImmediate(() => void daemon.stop(body.purge === true));
      return { stopping: true };
    }
    default:
      throw new HttpError(404, `no such API: ${route}`);
  }
}

function sourcesFrom(body: Record<string, unknown>): SourceText[] {
  const sources = body.sources;
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'object' && s !== null && typeof (s as SourceText).file === 'string' && typeof (s as SourceText).text === 'string')) {
    throw new HttpError(400, 'sources: expected a list of {file, text}');
  }
  return sources as SourceText[];
}

/** Stored objects of a kind (pods: live), deployments with their status filled from their pods. */
function objects(daemon: Daemon, kind: KindName, namespace: string, name: string): Record<string, unknown>[] {
  const matches = (ns: string, n: string) => (namespace === '' || ns === namespace) && (name === '' || n === name);
  if (kind === 'Pod') {
    return [...daemon.controller.pods.values()]
      .filter((p) => p.phase !== 'Stopped' && matches(p.namespace, p.name))
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
      .map(podObject);
  }
  return daemon.store.all()
    .filter((r) => r.kind === kind && matches(r.metadata.namespace, r.metadata.name))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((r) => (r.kind === 'Deployment' ? withDeploymentStatus(daemon, r) : r.raw));
}

function withDeploymentStatus(daemon: Daemon, d: ResourceOf<'Deployment'>): Record<string, unknown> {
  const hash = templateHash(d);
  const pods = [...daemon.controller.pods.values()].filter((p) => p.namespace === d.metadata.namespace && p.options.deployment === d.metadata.name && p.phase !== 'Stopped' && p.phase !== 'Terminating');
  const ready = pods.filter((p) => p.ready).length;
  const updated = pods.filter((p) => p.options.templateHash === hash).length;
  return {
    ...d.raw,
    status: { observedGeneration: d.metadata.generation ?? 1, replicas: pods.length, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready, unavailableReplicas: Math.max(0, d.spec.replicas - ready) },
  };
}

function label(daemon: Daemon, body: Record<string, unknown>): unknown {
  const kind = String(body.kind ?? '');
  const namespace = String(body.namespace ?? '');
  const name = String(body.name ?? '');
  const set = (body.set ?? {}) as Record<string, string>;
  const remove = (body.remove ?? []) as string[];
  const r = daemon.store.all().find((x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === namespace);
  if (!r) throw new HttpError(404, `${kind.toLowerCase()}s "${name}" not found`);
  const labels = { ...(r.metadata.labels ?? {}) };
  for (const [k, v] of Object.entries(set)) {
    if (labels[k] !== undefined && labels[k] !== v && body.overwrite !== true) {
      throw new HttpError(409, `'${k}' already has a value (${labels[k]}), and --overwrite is false`);
    }
    labels[k] = v;
  }
  for (const k of remove) delete labels[k];
  const raw = structuredClone(r.raw);
  raw.metadata = { ...(raw.metadata as Record<string, unknown>), labels };
  if (Object.keys(labels).length === 0) delete (raw.metadata as Record<string, unknown>).labels;
  try {
    daemon.store.put(raw);
  } catch (err) {
    throw new HttpError(422, (err as Error).message);
  }
  daemon.changed();
  return { ref: `${kind.toLowerCase()}/${name}`, action: 'labeled' };
}

/** kubectl's way: a timestamp annotation on the template, so the template (and its hash) changes. */
function rolloutRestart(daemon: Daemon, body: Record<string, unknown>): unknown {
  const namespace = String(body.namespace ?? 'default');
  const name = String(body.name ?? '');
  const key = resourceKey({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace, name } });
  const d = daemon.store.get(key);
  if (!d) throw new HttpError(404, `deployments.apps "${name}" not found in namespace ${namespace}`);
  const raw = structuredClone(d.raw) as { spec: { template: { metadata?: { annotations?: Record<string, string> } } } };
  const meta = (raw.spec.template.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
  daemon.store.put(raw as unknown as Record<string, unknown>);
  daemon.changed();
  return { ref: `deployment.apps/${name}`, action: 'restarted' };
}
