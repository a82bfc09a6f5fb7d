/**
 * A container's log file, bounded: when it passes its limit it becomes `<file>.1` (replacing the
 * previous one) and a new file starts, so a chatty or crash-looping container never fills the
 * disk and `weft logs` still shows the most recent output, across restarts of the container.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export const DEFAULT_LOG_LIMIT = 1024 * 1024;

export class LogFile {
  readonly path: string;
  readonly #limit: number;
  #size: number;

  constructor(path: string, limit = DEFAULT_LOG_LIMIT) {
    this.path = path;
    this.#limit = limit;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#size = existsSync(path) ? statSync(path).size : 0;
  }

  /** Never throws: a log that cannot be written (disk full, folder removed) must not take the daemon down. */
  write(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    try {
      if (this.#size + bytes.length > this.#limit && this.#size > 0) {
        renameSync(this.path, `${this.path}.1`);
        this.#size = 0;
      }
      appendFileSync(this.path, bytes, { mode: 0o600 });
      this.#size += bytes.length;
    } catch {
      // dropped: output is best effort, supervision is not
    }
  }
}

/** The rotated file then the current one: at most twice the limit. */
export function readLog(path: string): string {
  const parts = [`${path}.1`, path].filter((p) => existsSync(p)).map((p) => readFileSync(p, 'utf8'));
  return parts.join('');
}
