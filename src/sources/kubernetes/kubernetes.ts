/**
 * The Kubernetes API as a config source (`weft control-plane --kubernetes`): Istio's CRDs,
 * Services, Pods, Namespaces and the mesh's `istio` ConfigMap, each listed and watched
 * (informer.ts), each object validated on arrival with the files source's loader (convert.ts).
 *
 * On a cluster the admission webhook refuses invalid Istio objects; one that got past it is
 * reported with its API path and field path and left out, as istiod leaves it out, while every
 * other object stays. An object that was valid and is modified into an invalid one keeps its last
 * valid version, the per-object form of every source's promise that the last good set stays.
 * Watch events are batched: a burst (a `kubectl apply -f dir`, a rollout's pods) is one new set.
 */
import type { AnyResource } from '../../resources/index.js';
import type { Diagnostic } from '../../lib/diagnostic.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { ConfigSource, SourceEvent } from '../source.js';
import { ApiClient, ApiError } from './client.js';
import { loadConnection, type Connection, type ConnectionOptions } from './connection.js';
import { convertObject, meshConfigMapToOperator, type Converted } from './convert.js';
import { Informer, type Backoff } from './informer.js';
import { WATCHED_KINDS, apiVersionOf, collectionPath, objectPath, type WatchedKind } from './kinds.js';

export interface KubernetesSourceOptions extends ConnectionOptions {
  /** A resolved connection (tests); otherwise loaded from kubeconfig / in-cluster. */
  connection?: Connection;
  /** The control plane's namespace, where its `istio` ConfigMap lives; default istio-system. */
  namespace?: string;
  /** This control plane's revision: it reads the ConfigMap `istio-<revision>`. */
  revision?: string;
  /** Quiet period collecting watch events into one set; default 100 ms. */
  debounceMs?: number;
  backoff?: Backoff;
  watchTimeoutSeconds?: number;
  log?: Logger;
}

type Mapping = Record<string, unknown>;

interface Entry {
  resourceVersion: string;
  /** The last valid version of the object; undefined when it never was valid. */
  resource?: AnyResource;
  errors?: readonly Diagnostic[];
}

interface Collection {
  path: string;
  convert(object: Mapping, path: string): Converted;
  objectPath(namespace: string, name: string): string;
  entries: Map<string, Entry>;
}

export class KubernetesSource implements ConfigSource {
  readonly name: string;
  readonly #options: KubernetesSourceOptions;
  readonly #connection: Connection;
  readonly #log: Logger;
  #client: ApiClient | undefined;
  readonly #informers: Informer[] = [];
  readonly #collections: Collection[] = [];
  #resources: readonly AnyResource[] = [];
  #onChange: ((event: SourceEvent) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #synced = false;
  #stopped = false;
  /** Errors and warnings of object versions seen since the last reported set. */
  #pendingErrors: Diagnostic[] = [];
  #pendingWarnings: Diagnostic[] = [];

  constructor(options: KubernetesSourceOptions = {}) {
    this.#options = options;
    this.#connection = options.connection ?? loadConnection(options);
    this.#log = options.log ?? silentLogger;
    this.name = `kubernetes:${this.#connection.server}`;
  }

  async start(onChange: (event: SourceEvent) => void): Promise<void> {
    this.#onChange = onChange;
    const client = new ApiClient(this.#connection);
    this.#client = client;
    this.#log.info('watching the Kubernetes API', { source: this.name, via: this.#connection.describe });
    const served = await this.#servedVersions(client);
    for (const kind of WATCHED_KINDS) {
      const version = served.get(kind);
      if (version === undefined) {
        this.#log.warn('the cluster serves no version of this kind; it is not watched', { source: this.name, kind: kind.kind, tried: kind.versions.join(',') });
        continue;
      }
      this.#watch(client, kind, version);
    }
    const namespace = this.#options.namespace ?? 'istio-system';
    const revision = this.#options.revision === 'default' ? '' : this.#options.revision ?? '';
    const configMap = revision ? `istio-${revision}` : 'istio';
    this.#addInformer(client, {
      path: collectionPath('', 'v1', 'configmaps', namespace),
      apiVersion: 'v1',
      kind: 'ConfigMap',
      query: `fieldSelector=${encodeURIComponent(`metadata.name=${configMap}`)}`,
      convert: (object, path) => meshConfigMapToOperator(object, revision, path),
      objectPath: (ns, name) => objectPath('', 'v1', 'configmaps', ns, name),
    });
    await Promise.all(this.#informers.map((i) => i.synced()));
    if (this.#stopped) return;
    this.#synced = true;
    clearTimeout(this.#timer);
    this.#flush();
  }

  stop(): void {
    this.#stopped = true;
    this.#onChange = undefined;
    clearTimeout(this.#timer);
    for (const i of this.#informers) i.stop();
    this.#client?.close();
  }

  current(): readonly AnyResource[] {
    return this.#resources;
  }

  /**
   * The version each kind is read in: the first of its preferred versions the group's discovery
   * document lists; without discovery (404, forbidden), the first whose collection answers.
   * Retried with backoff while the server cannot be reached at all.
   */
  async #servedVersions(client: ApiClient): Promise<Map<WatchedKind, string>> {
    const out = new Map<WatchedKind, string>();
    const byGroup = new Map<string, Set<string> | undefined>();
    for (const kind of WATCHED_KINDS) {
      if (kind.group === '') {
        out.set(kind, 'v1');
        continue;
      }
      if (!byGroup.has(kind.group)) byGroup.set(kind.group, await this.#retrying(() => discover(client, kind.group)));
      const listed = byGroup.get(kind.group);
      for (const version of kind.versions) {
        const served = listed ? listed.has(version) : await this.#retrying(() => answers(client, collectionPath(kind.group, version, kind.plural)));
        if (served) {
          out.set(kind, version);
          break;
        }
      }
    }
    return out;
  }

  async #retrying<T>(call: () => Promise<T>): Promise<T> {
    const { initialMs, maxMs } = this.#options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (this.#stopped) throw err;
        const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
        this.#log.warn('Kubernetes API not reachable; retrying', { source: this.name, error: (err as Error).message, retryMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  #watch(client: ApiClient, kind: WatchedKind, version: string): void {
    this.#addInformer(client, {
      path: collectionPath(kind.group, version, kind.plural),
      apiVersion: apiVersionOf(kind.group, version),
      kind: kind.kind,
      convert: convertObject,
      objectPath: (ns, name) => objectPath(kind.group, version, kind.plural, ns, name),
    });
  }

  #addInformer(client: ApiClient, c: { path: string; apiVersion: string; kind: string; query?: string; convert: Collection['convert']; objectPath: Collection['objectPath'] }): void {
    const collection: Collection = { path: c.path, convert: c.convert, objectPath: c.objectPath, entries: new Map() };
    this.#collections.push(collection);
    const informer = new Informer({
      client,
      path: c.path,
      apiVersion: c.apiVersion,
      kind: c.kind,
      ...(c.query ? { query: c.query } : {}),
      ...(this.#options.backoff ? { backoff: this.#options.backoff } : {}),
      ...(this.#options.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: this.#options.watchTimeoutSeconds } : {}),
      handlers: {
        replace: (objects) => {
          const previous = collection.entries;
          collection.entries = new Map();
          for (const o of objects) this.#upsert(collection, o, previous);
          this.#changed();
        },
        upsert: (o) => {
          this.#upsert(collection, o, collection.entries);
          this.#changed();
        },
        remove: (o) => {
          const { key } = identity(o);
          if (collection.entries.delete(key)) this.#changed();
        },
        retrying: (error, delayMs) => this.#log.warn(delayMs === 0 ? 'watch expired (410 Gone); listing again' : 'watch interrupted; reconnecting', { source: this.name, collection: c.path, error: error.message, retryMs: delayMs }),
      },
    });
    this.#informers.push(informer);
    informer.start();
  }

  #upsert(collection: Collection, object: Mapping, previous: Map<string, Entry>): void {
    const { key, namespace, name, resourceVersion } = identity(object);
    const before = previous.get(key);
    // A relist hands back every object: those whose version did not move are not validated again.
    if (before && resourceVersion !== '' && before.resourceVersion === resourceVersion) {
      collection.entries.set(key, before);
      return;
    }
    const converted = collection.convert(object, collection.objectPath(namespace, name));
    if (converted.ok) {
      collection.entries.set(key, { resourceVersion, resource: converted.resource });
      this.#pendingWarnings.push(...converted.warnings);
    } else {
      collection.entries.set(key, { resourceVersion, ...(before?.resource ? { resource: before.resource } : {}), errors: converted.errors });
      this.#pendingErrors.push(...converted.errors);
    }
  }

  #changed(): void {
    if (!this.#synced || this.#timer) return;
    this.#timer = setTimeout(() => this.#flush(), this.#options.debounceMs ?? 100);
  }

  /** Reports the current set, then (if any) the objects of this batch that were refused. */
  #flush(): void {
    this.#timer = undefined;
    const resources: AnyResource[] = [];
    for (const c of this.#collections) for (const e of c.entries.values()) if (e.resource) resources.push(e.resource);
    resources.sort((a, b) => compare(`${a.kind}/${a.metadata.namespace}/${a.metadata.name}`, `${b.kind}/${b.metadata.namespace}/${b.metadata.name}`));
    this.#resources = resources;
    const warnings = this.#pendingWarnings;
    const errors = this.#pendingErrors;
    this.#pendingWarnings = [];
    this.#pendingErrors = [];
    this.#onChange?.({ type: 'accepted', resources, warnings });
    if (errors.length > 0) this.#onChange?.({ type: 'rejected', errors });
  }

  /** Objects currently refused (invalid in the cluster), with why: for tests and debug pages. */
  invalidObjects(): { path: string; errors: readonly Diagnostic[] }[] {
    const out: { path: string; errors: readonly Diagnostic[] }[] = [];
    for (const c of this.#collections) {
      for (const [key, e] of c.entries) {
        if (!e.errors) continue;
        const [namespace = '', name = ''] = key.split('/');
        out.push({ path: c.objectPath(namespace, name), errors: e.errors });
      }
    }
    return out;
  }
}

function identity(object: Mapping): { key: string; namespace: string; name: string; resourceVersion: string } {
  const meta = (object.metadata ?? {}) as Mapping;
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : '';
  const name = typeof meta.name === 'string' ? meta.name : '';
  return { key: `${namespace}/${name}`, namespace, name, resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '' };
}

/** The versions a group serves per its discovery document; undefined when there is none to read. */
async function discover(client: ApiClient, group: string): Promise<Set<string> | undefined> {
  try {
    const doc = await client.getJson<{ versions?: { version?: string }[] }>(`/apis/${group}`);
    return new Set((doc.versions ?? []).map((v) => v.version ?? ''));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403)) return undefined;
    throw err;
  }
}

/** Whether a collection URL is served (anything but 404). */
async function answers(client: ApiClient, path: string): Promise<boolean> {
  try {
    await client.getJson(`${path}?limit=1`);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    if (err instanceof ApiError) return true;
    throw err;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
