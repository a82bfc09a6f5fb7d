/**
 * A proxy config seen as named resources, as delta xDS sees it: listeners, route configurations,
 * clusters, cluster load assignments and secrets by name, plus the node and mesh blocks. Each
 * resource is serialised and hashed once; the config's version is a hash of its resources'
 * hashes, so two configs differing in one endpoint list cost one resource's JSON to compare and
 * to send, not the whole config's.
 *
 * Serialise once per change, not once per proxy: the compiler shares (and freezes) the resources
 * many proxies get alike, so a frozen object's JSON and hash are cached by identity; and a
 * collection of entries (all of one type) is interned by its hash, so a thousand proxies with the
 * same clusters hold one index of them, not a thousand. A resource built for one proxy alone is
 * not hashed by itself (a hash per small object costs more than its JSON): its text goes into
 * its collection's hash. So a resource counts by its hash when frozen and by its text when not,
 * and the compiler freezing deterministically keeps versions stable; were it not to, equal content
 * could get two versions (one needless push), never one version two contents.
 */
import * as crypto from 'node:crypto';
import type { ProxyConfig } from '../proxy-config/index.js';
import { RESOURCE_TYPES, resourceName, type ResourceType } from './delta.js';
import { frameJson } from './protocol.js';

export interface ResourceEntry {
  readonly name: string;
  readonly json: string;
  /** For frozen resources (cached) and route configurations (from their hosts'); else the text stands for itself. */
  readonly hash?: string;
}

/** What an entry contributes to its collection's hash: `#hash` cannot be mistaken for JSON text. */
function fingerprint(entry: ResourceEntry): string {
  return entry.hash === undefined ? entry.json : `#${entry.hash}`;
}

function sameEntry(a: ResourceEntry, b: ResourceEntry): boolean {
  return a === b || (a.hash !== undefined && b.hash !== undefined ? a.hash === b.hash : a.json === b.json);
}

/** All resources of one type in one config, interned: equal collections are one object. */
export interface ResourceCollection {
  readonly hash: string;
  readonly entries: readonly ResourceEntry[];
  /** Strictly ascending unique names: only then can a client rebuild the list from a delta. */
  readonly sorted: boolean;
  byName(): ReadonlyMap<string, ResourceEntry>;
}

export interface ConfigIndex {
  readonly version: string;
  readonly node: ResourceEntry;
  readonly mesh: ResourceEntry;
  readonly types: Readonly<Record<ResourceType, ResourceCollection>>;
  /** Every list is in name order, so this config can be the base of a delta or reached by one. */
  readonly deltaSafe: boolean;
}

// crypto.hash (node 20.12) skips the Hash object, which dominates for small inputs.
const oneShot: (text: string) => string = typeof crypto.hash === 'function'
  ? (text) => crypto.hash('sha256', text, 'base64url')
  : (text) => crypto.createHash('sha256').update(text).digest('base64url');
const hashOf = (text: string): string => oneShot(text).slice(0, 22);

/** Resources the compiler froze are immutable, so their text can be cached by identity. */
const frozenEntries = new WeakMap<object, ResourceEntry>();

function entryOf(name: string, resource: object): ResourceEntry {
  const cached = frozenEntries.get(resource);
  if (cached) return cached;
  const json = JSON.stringify(resource);
  if (!Object.isFrozen(resource)) return { name, json };
  const entry: ResourceEntry = { name, json, hash: hashOf(json) };
  frozenEntries.set(resource, entry);
  return entry;
}

/** Interned collections, held weakly: a collection lives as long as some connection's index names it. */
const collections = new Map<string, WeakRef<ResourceCollection>>();
const forget = new FinalizationRegistry<string>((hash) => {
  if (collections.get(hash)?.deref() === undefined) collections.delete(hash);
});

/**
 * A route configuration holds a virtual host per service, most of them shared between proxies
 * (compiler/routes/shared-hosts.ts): its text is assembled from its hosts' cached text, and its
 * hash is a hash of theirs. Chosen by shape alone, so equal content always hashes alike.
 */
function routeEntryOf(route: object): ResourceEntry {
  const keys = Object.keys(route);
  const { name, virtualHosts } = route as { name: unknown; virtualHosts: unknown };
  if (Object.isFrozen(route) || keys.length !== 2 || typeof name !== 'string' || !Array.isArray(virtualHosts) || keys[0] !== 'name' || keys[1] !== 'virtualHosts') {
    return entryOf(String(name), route);
  }
  const hosts = (virtualHosts as object[]).map((h) => entryOf('', h));
  const hash = hashOf(`route\n${name}\n${hosts.map(fingerprint).join('\n')}`);
  // Assembled only if sent: most proxies' route entries are dropped for an interned twin.
  let json: string | undefined;
  return {
    name,
    hash,
    get json(): string {
      return (json ??= `{"name":${JSON.stringify(name)},"virtualHosts":[${hosts.map((h) => h.json).join(',')}]}`);
    },
  };
}

/**
 * Collections of frozen lists, by the list: the compiler shares a sidecar's whole outbound cluster
 * and endpoint lists between proxies of one scope, so those proxies index them once, not each.
 */
const frozenLists = new WeakMap<readonly object[], ResourceCollection>();

function collectionOf(type: ResourceType, resources: readonly object[]): ResourceCollection {
  if (!Object.isFrozen(resources)) return buildCollection(type, resources);
  let collection = frozenLists.get(resources);
  if (!collection) {
    collection = buildCollection(type, resources);
    frozenLists.set(resources, collection);
  }
  return collection;
}

function buildCollection(type: ResourceType, resources: readonly object[]): ResourceCollection {
  const entries = resources.map((r) => (type === 'routes' ? routeEntryOf(r) : entryOf(resourceName(type, r), r)));
  let sorted = true;
  const parts: string[] = [type];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as ResourceEntry;
    if (i > 0 && !((entries[i - 1] as ResourceEntry).name < entry.name)) sorted = false;
    parts.push(fingerprint(entry));
  }
  // The hash covers order too: an unsorted list must not be mistaken for its sorted twin.
  const hash = `${hashOf(parts.join('\n'))}${sorted ? '' : '~'}`;
  const interned = collections.get(hash)?.deref();
  if (interned) return interned;
  let map: Map<string, ResourceEntry> | undefined;
  const collection: ResourceCollection = {
    hash,
    entries,
    sorted,
    byName: () => (map ??= new Map(entries.map((e) => [e.name, e]))),
  };
  collections.set(hash, new WeakRef(collection));
  forget.register(collection, hash);
  return collection;
}

/** Indexes a config (whatever `version` it carries is ignored and replaced by the content hash). */
export function indexConfig(config: ProxyConfig): ConfigIndex {
  const node = entryOf('node', config.node);
  const mesh = entryOf('mesh', config.mesh);
  const types = {} as Record<ResourceType, ResourceCollection>;
  const parts = [fingerprint(node), fingerprint(mesh)];
  let deltaSafe = true;
  for (const type of RESOURCE_TYPES) {
    const collection = collectionOf(type, config[type]);
    types[type] = collection;
    deltaSafe &&= collection.sorted;
    parts.push(collection.hash);
  }
  const version = Buffer.from(oneShot(parts.join('\n')), 'base64url').toString('hex').slice(0, 16);
  return { version, node, mesh, types, deltaSafe };
}

/** The whole config as JSON, assembled from the entries' cached text. */
export function configJson(index: ConfigIndex): string {
  const parts = [`{"version":"${index.version}","node":${index.node.json}`];
  for (const type of RESOURCE_TYPES) parts.push(`,"${type}":[${index.types[type].entries.map((e) => e.json).join(',')}]`);
  parts.push(`,"mesh":${index.mesh.json}}`);
  return parts.join('');
}

/** The `config` message: the whole config, as sent on connect, on resync, or when a delta cannot be. */
export function fullFrame(index: ConfigIndex, nonce: string, maxBytes: number): Buffer {
  return frameJson(`{"type":"config","version":"${index.version}","nonce":${JSON.stringify(nonce)},"config":${configJson(index)}}`, maxBytes);
}

/** What changed from `base` to `next`: the resources added or changed, and the names removed. */
export interface ResourceDiff {
  upserts: string[];
  removes: string[];
}

/**
 * The `delta` message taking a proxy from `base` (what it was last sent) to `next`. Both must be
 * deltaSafe. Unchanged types are skipped by their collection hash, so an endpoint change costs
 * one pass over one type's entries.
 */
export function deltaFrame(base: ConfigIndex, next: ConfigIndex, nonce: string, maxBytes: number): Buffer {
  const upserts: string[] = [];
  const removes: string[] = [];
  if (!sameEntry(base.node, next.node)) upserts.push(`"node":${next.node.json}`);
  if (!sameEntry(base.mesh, next.mesh)) upserts.push(`"mesh":${next.mesh.json}`);
  for (const type of RESOURCE_TYPES) {
    const before = base.types[type];
    const after = next.types[type];
    if (before === after || before.hash === after.hash) continue;
    const old = before.byName();
    const changed: string[] = [];
    for (const entry of after.entries) {
      const was = old.get(entry.name);
      if (!was || !sameEntry(was, entry)) changed.push(entry.json);
    }
    if (changed.length > 0) upserts.push(`"${type}":[${changed.join(',')}]`);
    const current = after.byName();
    const gone: string[] = [];
    for (const entry of before.entries) if (!current.has(entry.name)) gone.push(JSON.stringify(entry.name));
    if (gone.length > 0) removes.push(`"${type}":[${gone.join(',')}]`);
  }
  return frameJson(
    `{"type":"delta","version":"${next.version}","baseVersion":"${base.version}","nonce":${JSON.stringify(nonce)},"upserts":{${upserts.join(',')}},"removes":{${removes.join(',')}}}`,
    maxBytes,
  );
}
