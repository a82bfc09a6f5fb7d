/**
 * The other control plane replicas, as `weft proxy-status` asks them: each proxy holds one push
 * stream to one replica, so a page served by one replica reads the others' `/debug/syncz` (and a
 * proxy's `/debug/config_dump` from the replica holding it) to show every proxy. Replicas are
 * found from the Pod objects the runtime writes (the control plane's pods, `app: istiod`).
 * Demand-driven: a refresh starts only when the page asks and the last one is older than the
 * interval, so a control plane nobody browses makes no requests.
 */
import http from 'node:http';
import type { AnyResource } from '../resources/index.js';
import type { ProxyStatus } from '../distribution/index.js';

export interface ReplicasOptions {
  /** Monitoring base URLs of every control plane replica (this one included is fine). */
  peers: () => string[];
  /** This replica's id: its own answer is left out (it knows its proxies first-hand). */
  self: string;
  /** Default 2 s. */
  intervalMs?: number;
  /** Per request; default 1.5 s. */
  timeoutMs?: number;
}

/** Replicas' monitoring URLs from the control plane pods in the store. */
export function replicaUrls(resources: readonly AnyResource[], monitoringPort: number): string[] {
  const urls: string[] = [];
  for (const r of resources) {
    if (r.kind !== 'Pod' || r.metadata.labels?.app !== 'istiod') continue;
    const ip = (r.raw.status as { podIP?: string } | undefined)?.podIP;
    if (ip) urls.push(`http://${ip.includes(':') ? `[${ip}]` : ip}:${monitoringPort}`);
  }
  return urls.sort();
}

export class Replicas {
  readonly #options: ReplicasOptions;
  #proxies: ProxyStatus[] = [];
  /** Which replica URL answered for each proxy, for config dumps. */
  #holder = new Map<string, string>();
  #refreshedAt = 0;
  #refreshing: Promise<void> | undefined;

  constructor(options: ReplicasOptions) {
    this.#options = options;
  }

  /** The other replicas' proxies as last seen; starts a refresh when that is stale. */
  proxies(): ProxyStatus[] {
    void this.refresh();
    return this.#proxies;
  }

  /** Resolves when a refresh (started now if stale, or already running) is done. */
  refresh(): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    if (Date.now() - this.#refreshedAt < (this.#options.intervalMs ?? 2_000)) return Promise.resolve();
    this.#refreshing = this.#poll().finally(() => {
      this.#refreshedAt = Date.now();
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #poll(): Promise<void> {
    const answers = await Promise.all(this.#options.peers().map(async (base) => {
      const got = await getJson(`${base}/debug/syncz`, this.#options.timeoutMs ?? 1_500).catch(() => undefined);
      const syncz = got?.status === 200 ? (got.body as { replica?: string; proxies?: ProxyStatus[] }) : undefined;
      return syncz && syncz.replica !== this.#options.self && Array.isArray(syncz.proxies) ? { base, proxies: syncz.proxies } : undefined;
    }));
    const proxies: ProxyStatus[] = [];
    const holder = new Map<string, string>();
    for (const a of answers) {
      if (!a) continue;
      for (const p of a.proxies) {
        proxies.push(p);
        holder.set(p.nodeId, a.base);
      }
    }
    this.#proxies = proxies;
    this.#holder = holder;
  }

  /** A proxy's redacted config from the replica holding its stream, or undefined. */
  async configDump(proxyId: string): Promise<unknown> {
    if (!this.#holder.has(proxyId)) await this.refresh();
    const base = this.#holder.get(proxyId);
    if (!base) return undefined;
    const got = await getJson(`${base}/debug/config_dump?proxyID=${encodeURIComponent(proxyId)}`, this.#options.timeoutMs ?? 1_500).catch(() => undefined);
    return got?.status === 200 ? (got.body as { config?: unknown }).config : undefined;
  }
}

/** GET with a timeout and a size limit: a peer is trusted no further than a proxy is. */
function getJson(url: string, timeoutMs: number, maxBytes = 32 * 1024 * 1024): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new Error(`${url}: answer larger than ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
