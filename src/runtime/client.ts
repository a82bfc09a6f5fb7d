/**
 * The CLI's side of the daemon's socket: JSON requests over HTTP on WEFT_HOME/runtime.sock, and
 * starting a daemon in the background when `weft up` finds none.
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { openSync, closeSync, existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { weftHome, prepareHome, type WeftHome } from './home.js';

export class RuntimeNotRunning extends Error {
  constructor(home: WeftHome) {
    super(`the local runtime is not running for ${home.root}; start it with \`weft up\``);
  }
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly body: unknown) {
    super(message);
  }
}

export class RuntimeClient {
  readonly home: WeftHome;

  constructor(home: WeftHome = weftHome()) {
    this.home = home;
  }

  request<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request({
        socketPath: this.home.socket, method, path, timeout: timeoutMs,
        headers: text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {},
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            reject(new ApiError(res.statusCode ?? 0, 'the runtime sent a reply that is not JSON', undefined));
            return;
          }
          if (res.statusCode === 200) resolve(parsed as T);
          else reject(new ApiError(res.statusCode ?? 0, String((parsed as { error?: string }).error ?? `HTTP ${res.statusCode}`), parsed));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`the runtime did not answer ${method} ${path} within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? new RuntimeNotRunning(this.home) : err));
      req.end(text);
    });
  }

  async running(): Promise<boolean> {
    try {
      await this.request('GET', '/status', undefined, 5_000);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts `weft up --foreground` detached (output in logs/daemon.log) and waits for its socket. */
  async startBackground(args: readonly string[], timeoutMs = 30_000): Promise<void> {
    prepareHome(this.home);
    const logPath = join(this.home.logs, 'daemon.log');
    // Kept bounded across starts: the previous run's log moves aside once it is large.
    if (existsSync(logPath) && statSync(logPath).size > 4 * 1024 * 1024) renameSync(logPath, `${logPath}.1`);
    const out = openSync(logPath, 'a', 0o600);
    const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
    const child = spawn(process.execPath, [main, 'up', '--foreground', '--no-wait', ...args], {
      detached: true, stdio: ['ignore', out, out], env: { ...process.env, WEFT_HOME: this.home.root },
    });
    closeSync(out);
    let exited: number | null | undefined;
    child.once('exit', (code) => {
      exited = code;
    });
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited !== undefined) throw new Error(`the runtime exited (code ${exited}) while starting; see ${logPath}`);
      if (await this.running()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the runtime did not start within ${timeoutMs} ms; see ${logPath}`);
  }
}
