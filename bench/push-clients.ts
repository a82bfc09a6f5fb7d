/**
 * What the push benches share: real DiscoveryClients in a child process (so their CPU is not the
 * server's), started in waves of 250 so the server's listen backlog is never flooded, and a
 * polling wait with a deadline, and a config source held in memory.
 */
import { mintToken } from '../src/control-plane/token.js';
import { DiscoveryClient } from '../src/distribution/client.js';
import type { ProxyNode } from '../src/proxy-config/index.js';
import type { AnyResource } from '../src/resources/index.js';
import type { ConfigSource, SourceEvent } from '../src/sources/index.js';

export async function until(condition: () => boolean, what: string, timeoutMs: number, bench = 'push'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${bench} bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** `count` proxies named by `nodeOf`, each with its token, every one connected and applied on return. */
export async function startClients(port: number, key: string, count: number, nodeOf: (i: number) => ProxyNode): Promise<DiscoveryClient[]> {
  const clients: DiscoveryClient[] = [];
  let applied = 0;
  for (let i = 0; i < count; i++) {
    const node = nodeOf(i);
    const client = new DiscoveryClient({
      servers: [`http://127.0.0.1:${port}`], node, token: mintToken(Buffer.from(key, 'hex'), node.id, node.serviceAccount),
      apply: () => ({ ok: true }), backoff: { initialMs: 1000, maxMs: 30_000 },
    });
    client.once('applied', () => applied++);
    clients.push(client);
    client.start();
    if (i % 250 === 249) while (applied < i + 1) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return clients;
}

/** Resources handed to the control plane directly, as a source that never refuses. */
export class MemorySource implements ConfigSource {
  readonly name = 'bench';
  #resources: readonly AnyResource[];
  #onChange: ((event: SourceEvent) => void) | undefined;
  constructor(resources: readonly AnyResource[]) {
    this.#resources = resources;
  }
  start(onChange: (event: SourceEvent) => void): Promise<void> {
    this.#onChange = onChange;
    onChange({ type: 'accepted', resources: this.#resources, warnings: [] });
    return Promise.resolve();
  }
  stop(): void {
    this.#onChange = undefined;
  }
  current(): readonly AnyResource[] {
    return this.#resources;
  }
  set(resources: readonly AnyResource[]): void {
    this.#resources = resources;
    this.#onChange?.({ type: 'accepted', resources, warnings: [] });
  }
}
