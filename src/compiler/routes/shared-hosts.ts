/**
 * Default virtual hosts shared between proxies. A service with no VirtualService gets Istio's
 * default route, which reads only the snapshot (mesh retries), the service, the port, whether the
 * client is in the service's namespace (the bare-name domain) and its cluster's hash policy, so
 * every proxy alike in those gets the same frozen object: built once per snapshot, and serialised
 * once by distribution. The output is the same as building it afresh.
 */
import type { HashPolicy, VirtualHost } from '../../proxy-config/index.js';
import type { Service } from '../../registry/index.js';
import type { Snapshot } from '../snapshot.js';

interface Memo {
  /** A number per hash policy object (shared per cluster by clusters/shared.ts); `0` is none. */
  readonly hashes: Map<HashPolicy, number>;
  readonly byService: WeakMap<Service, Map<string, VirtualHost>>;
  /** A number per shared host, so a list of them has a key. */
  readonly ids: WeakMap<VirtualHost, number>;
  /** Deduplicated lists of shared hosts, by their hosts' numbers. */
  readonly deduped: Map<string, VirtualHost[]>;
}

const memos = new WeakMap<Snapshot, Memo>();
let idCount = 0;

function memoOf(snapshot: Snapshot): Memo {
  let memo = memos.get(snapshot);
  if (!memo) {
    memo = { hashes: new Map(), byService: new WeakMap(), ids: new WeakMap(), deduped: new Map() };
    memos.set(snapshot, memo);
  }
  return memo;
}

/**
 * `dedupe(hosts)`, shared when every host is a shared one: proxies that see the same services get
 * the same list (Istio's dedupeDomains is the same function of the same hosts), so it is worked
 * out once per snapshot rather than once per proxy, a set operation per domain of every service.
 */
export function sharedDedupe(snapshot: Snapshot, hosts: readonly VirtualHost[], dedupe: (hosts: VirtualHost[]) => VirtualHost[]): VirtualHost[] {
  const memo = memoOf(snapshot);
  let key = '';
  for (const host of hosts) {
    const id = memo.ids.get(host);
    if (id === undefined) return dedupe([...hosts]);
    key += `${id},`;
  }
  let out = memo.deduped.get(key);
  if (!out) {
    out = dedupe([...hosts]).map(deepFreeze);
    memo.deduped.set(key, out);
  }
  return out;
}

export function sharedDefaultHost(snapshot: Snapshot, service: Service, port: number, clientNamespace: string, hash: HashPolicy | undefined, build: () => VirtualHost): VirtualHost {
  const memo = memoOf(snapshot);
  let hashId = 0;
  if (hash) {
    hashId = memo.hashes.get(hash) ?? memo.hashes.size + 1;
    memo.hashes.set(hash, hashId);
  }
  let hosts = memo.byService.get(service);
  if (!hosts) {
    hosts = new Map();
    memo.byService.set(service, hosts);
  }
  const key = `${port}|${hashId}|${clientNamespace === service.namespace ? 'local' : 'remote'}`;
  let host = hosts.get(key);
  if (!host) {
    host = deepFreeze(build());
    hosts.set(key, host);
    memo.ids.set(host, memo.ids.get(host) ?? ++idCount);
  }
  return host;
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
