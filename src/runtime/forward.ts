/**
 * A TCP forwarder to a changing set of backends, round-robin, as a Service's virtual address
 * does. Until a backend has answered anything, the client's bytes are kept (up to REPLAY_LIMIT)
 * and a backend that refuses, resets or closes is replaced by the next one, the kept bytes
 * replayed: a replica killed between accepting and answering (SIGKILL is not instant) costs the
 * client nothing. Once the first byte comes back the two sockets are simply piped.
 */
import net from 'node:net';

export interface Backend {
  address: string;
  port: number;
}

/** How much of a request is kept for replay on another backend. */
const REPLAY_LIMIT = 64 * 1024;

export class TcpForwarder {
  readonly server: net.Server;
  readonly #backends: () => Backend[];
  #next = 0;

  constructor(backends: () => Backend[]) {
    this.#backends = backends;
    this.server = net.createServer((c) => this.#forward(c));
  }

  /** Resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): void {
    this.server.close();
  }

  #forward(client: net.Socket): void {
    const backends = this.#backends();
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let clientEnded = false;
    let upstream: net.Socket | undefined;
    let answered = false;
    let tries = 0;
    client.on('data', (chunk: Buffer) => {
      if (!answered) {
        kept.push(chunk);
        keptBytes += chunk.length;
        // Too much to replay: from here on this connection cannot move to another backend.
        if (keptBytes > REPLAY_LIMIT) tries = Infinity;
      }
      upstream?.write(chunk);
    });
    client.on('end', () => {
      clientEnded = true;
      upstream?.end();
    });
    client.on('error', () => upstream?.destroy());
    client.on('close', () => upstream?.destroy());
    const attempt = (): void => {
      if (backends.length === 0 || tries >= backends.length || client.destroyed) {
        client.destroy();
        return;
      }
      tries++;
      const b = backends[this.#next++ % backends.length] as Backend;
      const u = net.connect({ host: b.address, port: b.port });
      upstream = u;
      u.setNoDelay(true);
      for (const chunk of kept) u.write(chunk);
      if (clientEnded) u.end();
      u.on('data', (chunk: Buffer) => {
        if (!answered) {
          answered = true;
          kept.length = 0;
        }
        if (!client.write(chunk)) {
          u.pause();
          client.once('drain', () => u.resume());
        }
      });
      u.on('end', () => {
        if (answered) client.end();
      });
      u.on('error', () => undefined);
      u.on('close', () => {
        if (upstream !== u) return;
        if (!answered) attempt();
        else client.destroy();
      });
    };
    attempt();
  }
}
