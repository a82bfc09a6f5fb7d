/**
 * A Kubernetes API server for tests, the one stand-in the Kubernetes source's tests use (a real
 * one cannot run here): HTTPS with a self-signed certificate made by openssl, a bearer token
 * checked on every request, group discovery, list and watch for the collections the source reads,
 * a global resourceVersion, watches resumed from a version, "410 Gone" for a version older than
 * the last compaction, bookmarks, and connections it can drop on demand. Not used outside tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WATCHED_KINDS } from './kinds.js';

type Mapping = Record<string, unknown>;

interface Change { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; resource: string; object: Mapping }
interface Watcher { resource: string; namespace?: string; name?: string; version: string; res: ServerResponse }

const RESOURCES: Record<string, { group: string; plural: string }> = Object.fromEntries([
  ...WATCHED_KINDS.map((k) => [k.kind, { group: k.group, plural: k.plural }]),
  ['ConfigMap', { group: '', plural: 'configmaps' }],
]);

export interface FakeApiServerOptions {
  token: string;
  /** Versions served per API group (default: v1 and the older ones the source knows). */
  groupVersions?: Record<string, string[]>;
}

export class FakeApiServer {
  readonly ca: string;
  readonly requests: string[] = [];
  readonly #server: https.Server;
  readonly #token: string;
  readonly #groups: Record<string, string[]>;
  readonly #objects = new Map<string, Map<string, Mapping>>();
  readonly #log: Change[] = [];
  readonly #watchers = new Set<Watcher>();
  #rv = 100;
  #compactedBelow = 0;
  #closing = false;

  constructor(dir: string, options: FakeApiServerOptions) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'api-key.pem', '-out', 'api-cert.pem',
      '-days', '1', '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { cwd: dir, stdio: 'ignore' });
    this.ca = readFileSync(join(dir, 'api-cert.pem'), 'utf8');
    this.#token = options.token;
    this.#groups = options.groupVersions ?? { 'networking.istio.io': ['v1', 'v1beta1', 'v1alpha3'], 'security.istio.io': ['v1', 'v1beta1'], 'telemetry.istio.io': ['v1', 'v1alpha1'] };
    this.#server = https.createServer({ cert: this.ca, key: readFileSync(join(dir, 'api-key.pem'), 'utf8') }, (req, res) => this.#handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    // A client mid-handshake is not among the connections closed now; it is cut when it asks.
    this.#closing = true;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Creates or replaces an object (ADDED or MODIFIED to watchers); returns its new resourceVersion. */
  put(object: Mapping): string {
    const resource = resourceOf(object);
    const meta = (object.metadata ?? {}) as Mapping;
    const key = `${String(meta.namespace ?? '')}/${String(meta.name)}`;
    const bucket = this.#objects.get(resource) ?? new Map<string, Mapping>();
    this.#objects.set(resource, bucket);
    const type = bucket.has(key) ? 'MODIFIED' : 'ADDED';
    const rv = ++this.#rv;
    const stored = { ...object, metadata: { ...meta, resourceVersion: String(rv), uid: `uid-${key}`, creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [{ manager: 'kubectl' }] } };
    bucket.set(key, stored);
    this.#record({ rv, type, resource, object: stored });
    return String(rv);
  }

  delete(kind: string, namespace: string, name: string): void {
    const resource = resourceOf({ kind });
    const key = `${namespace}/${name}`;
    const stored = this.#objects.get(resource)?.get(key);
    if (!stored) return;
    this.#objects.get(resource)?.delete(key);
    const rv = ++this.#rv;
    this.#record({ rv, type: 'DELETED', resource, object: { ...stored, metadata: { ...(stored.metadata as Mapping), resourceVersion: String(rv) } } });
  }

  /** Forgets history: a watch from any version up to now is answered 410 Gone. */
  compact(): void {
    this.#compactedBelow = this.#rv + 1;
  }

  /** Cuts every open watch mid-stream, as a restarting API server or a load balancer does. */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.socket?.destroy();
    this.#watchers.clear();
  }

  /** Sends a BOOKMARK with the current version to every watcher. */
  bookmark(): void {
    for (const w of this.#watchers) this.#send(w, { type: 'BOOKMARK', object: { kind: 'Bookmark', metadata: { resourceVersion: String(this.#rv) } } });
  }

  watchCount(): number {
    return this.#watchers.size;
  }

  #record(change: Change): void {
    this.#log.push(change);
    for (const w of this.#watchers) if (matches(w, change)) this.#send(w, { type: change.type, object: withApiVersion(change.object, w.version, change.resource) });
  }

  #send(w: Watcher, event: Mapping): void {
    w.res.write(`${JSON.stringify(event)}\n`);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closing) return void req.socket.destroy();
    this.requests.push(req.url ?? '');
    const status = (code: number, message: string) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, message }));
    };
    if (req.headers.authorization !== `Bearer ${this.#token}`) return status(401, 'Unauthorized');
    const url = new URL(req.url ?? '/', 'https://x');
    const discovery = /^\/apis\/([^/]+)$/.exec(url.pathname);
    if (discovery) {
      const versions = this.#groups[discovery[1] ?? ''];
      if (!versions) return status(404, 'the server could not find the requested resource');
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ kind: 'APIGroup', name: discovery[1], versions: versions.map((v) => ({ groupVersion: `${discovery[1]}/${v}`, version: v })) }));
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(?:namespaces\/([^/]+)\/)?([^/]+)$/.exec(url.pathname);
    const group = m?.[2] ?? '';
    const version = m?.[1] ?? m?.[3] ?? '';
    if (!m || (group !== '' && !this.#groups[group]?.includes(version))) return status(404, 'the server could not find the requested resource');
    const resource = `${group}/${m[5] ?? ''}`;
    const namespace = m[4];
    const selected = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
    const w: Watcher = { resource, version, res, ...(namespace ? { namespace } : {}), ...(selected ? { name: selected } : {}) };
    if (url.searchParams.get('watch') !== '1') {
      const items = [...(this.#objects.get(resource)?.values() ?? [])].filter((o) => matches(w, { resource, object: o })).map((o) => withApiVersion(o, version, resource));
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ kind: 'List', apiVersion: version, metadata: { resourceVersion: String(this.#rv) }, items }));
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from < this.#compactedBelow) {
      this.#send(w, { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${this.#compactedBelow})` } });
      return void res.end();
    }
    for (const change of this.#log) if (change.rv > from && matches(w, change)) this.#send(w, { type: change.type, object: withApiVersion(change.object, version, resource) });
    this.#watchers.add(w);
    res.on('close', () => this.#watchers.delete(w));
  }
}

function resourceOf(object: Mapping): string {
  const r = RESOURCES[String(object.kind)];
  if (!r) throw new Error(`fake API server: unknown kind ${String(object.kind)}`);
  return `${r.group}/${r.plural}`;
}

function matches(w: Pick<Watcher, 'resource' | 'namespace' | 'name'>, change: { resource: string; object: Mapping }): boolean {
  const meta = (change.object.metadata ?? {}) as Mapping;
  return change.resource === w.resource && (!w.namespace || meta.namespace === w.namespace) && (!w.name || meta.name === w.name);
}

/** As the server answers in the requested version; core list items carry no apiVersion/kind, CRs do. */
function withApiVersion(object: Mapping, version: string, resource: string): Mapping {
  const group = resource.split('/')[0] ?? '';
  if (group === '') {
    const { apiVersion: _a, kind: _k, ...rest } = object;
    return rest;
  }
  return { ...object, apiVersion: `${group}/${version}` };
}
