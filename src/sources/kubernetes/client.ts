/**
 * The few API server calls the config source makes: GET a JSON document (discovery, lists) and
 * open a watch, a long-lived GET whose body is one JSON event per line. Written over node:https
 * rather than @kubernetes/client-node: that library is 72 MB with 68 packages, adds ~370 ms and
 * ~80 MB of memory to the control plane's start on this machine, and its current major does not
 * load on Node 20; list and watch need nothing beyond this file.
 */
import http from 'node:http';
import https from 'node:https';
import type { Connection } from './connection.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly path: string, message: string) {
    super(`${path}: HTTP ${status}: ${message}`);
  }
}

/** A watch event as the API server streams it. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface WatchHandle {
  /** Resolves when the stream ends: cleanly (the server's timeout) or with the error that ended it. */
  done: Promise<void>;
  abort(): void;
}

export class ApiClient {
  readonly #conn: Connection;
  readonly #requests = new Set<http.ClientRequest>();

  constructor(connection: Connection) {
    this.#conn = connection;
  }

  get server(): string {
    return this.#conn.server;
  }

  async getJson<T>(path: string): Promise<T> {
    const res = await this.#open(path);
    const body = await readBody(res);
    if (res.statusCode !== 200) throw new ApiError(res.statusCode ?? 0, path, statusMessage(body));
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new ApiError(200, path, 'the answer is not JSON');
    }
  }

  /**
   * Opens a watch; `onEvent` sees every event in order. A non-200 answer rejects `done` with an
   * ApiError. A stream silent for `idleMs` (a peer gone without a FIN) is cut, so it is reopened.
   */
  watch(path: string, onEvent: (event: WatchEvent) => void, idleMs = 0): WatchHandle {
    let req: http.ClientRequest | undefined;
    let aborted = false;
    const done = (async () => {
      const res = await this.#open(path, (r) => {
        req = r;
        if (aborted) r.destroy();
        if (idleMs > 0) r.setTimeout(idleMs, () => r.destroy(new Error(`${path}: the watch was silent for ${idleMs / 1000} s`)));
      });
      if (res.statusCode !== 200) throw new ApiError(res.statusCode ?? 0, path, statusMessage(await readBody(res)));
      res.setEncoding('utf8');
      let pending = '';
      await new Promise<void>((resolve, reject) => {
        res.on('data', (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl).trim();
            pending = pending.slice(nl + 1);
            if (line === '') continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch {
              res.destroy(new Error(`${path}: a watch event is not JSON`));
              return;
            }
            onEvent(event);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        // A connection cut mid-body emits 'aborted' (and 'close') without 'end'.
        res.on('aborted', () => reject(new Error(`${path}: the watch connection was dropped`)));
        res.on('close', () => (res.complete ? resolve() : reject(new Error(`${path}: the watch connection was dropped`))));
      });
    })();
    return {
      done,
      abort: () => {
        aborted = true;
        req?.destroy();
      },
    };
  }

  /** Cuts every open request (stop). */
  close(): void {
    for (const r of this.#requests) r.destroy();
    this.#requests.clear();
  }

  async #open(path: string, onRequest?: (req: http.ClientRequest) => void): Promise<http.IncomingMessage> {
    let res = await this.#request(path, onRequest);
    if (res.statusCode === 401) {
      // An expired exec or rotated token: fetch fresh credentials once.
      res.resume();
      this.#conn.invalidate();
      res = await this.#request(path, onRequest);
    }
    return res;
  }

  async #request(path: string, onRequest?: (req: http.ClientRequest) => void): Promise<http.IncomingMessage> {
    const creds = await this.#conn.credentials();
    const url = new URL(path, this.#conn.server);
    const secure = url.protocol === 'https:';
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', 'user-agent': 'weft-control-plane' };
    if (creds.token) headers.authorization = `Bearer ${creds.token}`;
    const options: https.RequestOptions = {
      method: 'GET',
      headers,
      agent: false,
      ...(secure ? {
        ...(this.#conn.ca ? { ca: this.#conn.ca } : {}),
        ...(creds.cert ? { cert: creds.cert } : {}),
        ...(creds.key ? { key: creds.key } : {}),
        rejectUnauthorized: !this.#conn.insecureSkipTlsVerify,
      } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(url, options, resolve);
      this.#requests.add(req);
      req.on('close', () => this.#requests.delete(req));
      req.on('error', reject);
      onRequest?.(req);
      req.end();
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

/** The `message` of a metav1.Status answer, else the body's start. */
function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // not a Status
  }
  return body.slice(0, 200) || 'no body';
}
