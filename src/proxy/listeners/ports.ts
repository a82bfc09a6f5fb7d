/**
 * The ports the proxy listens on, reconciled with each config: new ports are bound before the
 * config is committed (a port that cannot be bound rejects the whole config, as Envoy rejects a
 * listener it cannot bind), removed ports stop accepting while their open connections finish.
 */
import net, { type Socket } from 'node:net';
import type { Binding } from './connection.js';

export interface PortSpec {
  /** Stable identity across configs: `outbound`, `inbound`, `gateway:80`, `inbound-map:19080`. */
  key: string;
  address: string;
  /** 0 picks a free port (tests); kept across reloads while the spec is unchanged. */
  port: number;
  binding: Binding;
}

interface Bound {
  /** Replaced in place when only the binding changes; new connections read it on accept. */
  spec: PortSpec;
  server: net.Server;
  port: number;
}

export class BoundPorts {
  readonly #bound = new Map<string, Bound>();
  readonly #sockets = new Set<Socket>();
  readonly #accept: (socket: Socket, binding: Binding) => void;

  constructor(accept: (socket: Socket, binding: Binding) => void) {
    this.#accept = accept;
  }

  /** Binds what is new; throws (having bound nothing) when any new port fails. Returns a commit step. */
  async prepare(specs: PortSpec[]): Promise<{ commit(): void; abort(): void }> {
    const wanted = new Map(specs.map((s) => [s.key, s]));
    const added: Bound[] = [];
    const rebound: [Bound, PortSpec][] = [];
    try {
      for (const spec of specs) {
        const existing = this.#bound.get(spec.key);
        // Same address and port: keep the socket, take the new binding (no rebind, no lost connections).
        if (existing && sameAddress(existing.spec, spec)) {
          rebound.push([existing, spec]);
          continue;
        }
        added.push(await this.#listen(spec));
      }
    } catch (err) {
      await Promise.all(added.map((b) => closeServer(b.server)));
      throw err;
    }
    return {
      commit: () => {
        for (const [b, spec] of rebound) b.spec = spec;
        for (const [key, b] of this.#bound) {
          const next = wanted.get(key);
          if (!next || !sameAddress(b.spec, next)) {
            void closeServer(b.server);
            this.#bound.delete(key);
          }
        }
        for (const b of added) this.#bound.set(b.spec.key, b);
      },
      abort: () => {
        for (const b of added) void closeServer(b.server);
      },
    };
  }

  /** Bound port per key (the real port when 0 was asked for). */
  ports(): Record<string, number> {
    return Object.fromEntries([...this.#bound].map(([k, b]) => [k, b.port]));
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Stops accepting on every port; open connections stay. */
  async stopAccepting(): Promise<void> {
    const servers = [...this.#bound.values()].map((b) => b.server);
    this.#bound.clear();
    await Promise.all(servers.map(closeServer));
  }

  destroyConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  #listen(spec: PortSpec): Promise<Bound> {
    let bound: Bound | undefined;
    // allowHalfOpen: a TCP client may finish sending and still wait for the answer.
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      // Read at accept time: commit() may have given this port a new binding since.
      this.#accept(socket, (bound?.spec ?? spec).binding);
    });
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`cannot listen on ${spec.address}:${spec.port} (${spec.key}): ${err.message}`)));
      server.listen({ host: spec.address, port: spec.port, backlog: 1024 }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        const address = server.address();
        bound = { spec, server, port: typeof address === 'object' && address ? address.port : spec.port };
        resolve(bound);
      });
    });
  }
}

function sameAddress(a: PortSpec, b: PortSpec): boolean {
  return a.address === b.address && a.port === b.port;
}

/** Stops accepting now. (close()'s callback would wait for every open connection to end.) */
function closeServer(server: net.Server): Promise<void> {
  server.close();
  return new Promise((resolve) => setImmediate(resolve));
}
