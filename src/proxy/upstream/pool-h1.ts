/**
 * HTTP/1.1 keep-alive pool: one request at a time per connection, each connection a socket this
 * pool opened (so connect failures, timeouts and the connection circuit breaker are ours), its
 * reads landing in one shared buffer (socket.ts) for Node's native HTTP parser
 * (http1/connection.ts). Measured by http-client.bench.ts and the proxy benchmark against
 * node:http's keep-alive Agent and undici (which this pool used before): the fastest of them per
 * core, and it leaves undici's WebAssembly parser out of every sidecar.
 */
import type net from 'node:net';
import type { Cancellation } from './cancel.js';
import { Http1Connection } from './http1/connection.js';
import { ConnectionPool, type AttemptRequest, type AttemptResponse } from './pool.js';
import { hostKey, type SocketReader } from './socket.js';

export class Http1Pool extends ConnectionPool<Http1Connection> {
  protected streamsPerNewConnection(): number {
    return 1;
  }

  protected override socketReader(): SocketReader {
    return { onData: undefined };
  }

  protected wrap(socket: net.Socket, reader: SocketReader | undefined): Http1Connection {
    return new Http1Connection(socket, reader, {
      defaultHost: hostKey(this.target.address, this.target.port),
      idleTimeoutMs: this.settings().idleTimeoutMs,
      onStreamEnd: (c) => this.streamEnded(c),
      onClosed: (c) => this.connectionClosed(c),
    });
  }

  protected start(conn: Http1Connection, req: AttemptRequest, cancel: Cancellation | undefined): Promise<AttemptResponse> {
    return conn.request(req, cancel);
  }
}
