/**
 * The config file `weft proxy --config` serves: read at start, again on SIGHUP (the CLI calls
 * `reload`) and whenever the file changes. Editors and `kubectl cp`-style tools replace files
 * rather than write them in place, so the directory is watched, not the file, and bursts of
 * events are coalesced. A file that is not JSON is rejected like an invalid config.
 */
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../lib/log.js';
import type { ApplyResult } from './proxy.js';

export class ConfigFile {
  readonly path: string;
  readonly #apply: (value: unknown) => Promise<ApplyResult>;
  readonly #log: Logger;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastText: string | undefined;

  constructor(path: string, apply: (value: unknown) => Promise<ApplyResult>, log: Logger) {
    this.path = path;
    this.#apply = apply;
    this.#log = log;
  }

  /** Reads and applies the file; `force` re-applies even when the text did not change (SIGHUP). */
  async reload(force = true): Promise<ApplyResult> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      return this.#refuse(`${this.path}: cannot read: ${(err as Error).message}`);
    }
    if (!force && text === this.#lastText) return { accepted: true, version: '', warnings: [] };
    this.#lastText = text;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return this.#refuse(`${this.path}: not valid JSON: ${(err as Error).message}`);
    }
    return this.#apply(value);
  }

  #refuse(error: string): ApplyResult {
    this.#log.warn('config rejected; keeping the last good one', { error });
    return { accepted: false, version: '', errors: [error] };
  }

  /** Watches the file's directory; changes are applied after `settleMs` of quiet. */
  watch(settleMs = 100): void {
    const name = basename(this.path);
    this.#watcher = watch(dirname(this.path), (_event, file) => {
      if (file !== null && file !== name) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.reload(false), settleMs);
    });
    this.#watcher.on('error', (err) => this.#log.warn('cannot watch the config file', { path: this.path, error: err.message }));
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
  }
}
