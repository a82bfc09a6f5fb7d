/**
 * The downstream HTTP/1.1 codec for the whole proxy: it serves the connections the listeners
 * hand it (connection.ts) and keeps one timer for all of them, as node:http's connections
 * checker does: a head that does not arrive in time gets 408, an idle keep-alive connection
 * closes after the idle timeout.
 */
import type { Socket } from 'node:net';
import type { ConnectionContext } from '../../listeners/connection.js';
import { Http1ServerConnection, type Http1Hooks, type Http1Limits } from './connection.js';

export class Http1Server {
  readonly #connections = new Set<Http1ServerConnection>();
  readonly #checkEveryMs: number;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly hooks: Http1Hooks,
    private readonly limits: Http1Limits,
  ) {
    this.#checkEveryMs = Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
  }

  serve(socket: Socket, conn: ConnectionContext): void {
    const c = new Http1ServerConnection(socket, conn, this.hooks, this.limits, (gone) => this.#connections.delete(gone));
    this.#connections.add(c);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#check(), this.#checkEveryMs);
      this.#timer.unref();
    }
    socket.resume();
  }

  /** Drain: idle connections close now, busy ones after their response. */
  closeIdleConnections(): void {
    for (const c of this.#connections) c.closeWhenIdle();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    if (this.#connections.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    const { headersTimeoutMs, idleTimeoutMs } = this.limits;
    for (const c of this.#connections) {
      if (c.headersStartedAt > 0 && headersTimeoutMs > 0 && now - c.headersStartedAt > headersTimeoutMs) c.headersTimedOut();
      else if (c.idleSince > 0 && idleTimeoutMs > 0 && now - c.idleSince > idleTimeoutMs) c.close();
    }
  }
}
