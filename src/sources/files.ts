/**
 * Files and directories as a config source (`weft control-plane --config DIR`): everything under
 * the paths is loaded as one set with the same validation as `weft apply`, and the set is
 * reloaded when anything under them changes.
 *
 * Editors and tools write a file in several steps (truncate, write, rename), so change events are
 * debounced and the whole set is re-read after a quiet period; a set whose text did not change
 * (a touch, an event for an unrelated file) is not reported at all. Directories are watched one
 * by one rather than with `recursive: true`, whose Linux support in Node 20 misses directories
 * created after the watch started; the set of watched directories is refreshed on every reload.
 */
import { watch, readdirSync, statSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadResources, readSources, Messages, type AnyResource, type SourceText } from '../resources/index.js';
import type { Diagnostic } from '../lib/diagnostic.js';
import type { ConfigSource, SourceEvent } from './source.js';

export interface FileSourceOptions {
  /** Files and directories (recursively; YAML and JSON files). */
  paths: readonly string[];
  /** Quiet period after the last file event before the set is re-read. Default 100 ms. */
  debounceMs?: number;
  /** Watch for changes; off, the set is read at start and on `reload()` only. Default true. */
  watch?: boolean;
}

export class FileSource implements ConfigSource {
  readonly name: string;
  readonly #paths: readonly string[];
  readonly #debounceMs: number;
  readonly #watch: boolean;
  readonly #watchers = new Map<string, FSWatcher>();
  #resources: readonly AnyResource[] = [];
  /** The text of the last set read (accepted or not), so an unchanged set is not reported twice. */
  #lastRead: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #onChange: ((event: SourceEvent) => void) | undefined;

  constructor(options: FileSourceOptions) {
    if (options.paths.length === 0) throw new RangeError('FileSource needs at least one path');
    this.#paths = options.paths;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#watch = options.watch ?? true;
    this.name = `files:${options.paths.join(',')}`;
  }

  start(onChange: (event: SourceEvent) => void): Promise<void> {
    this.#onChange = onChange;
    this.reload();
    return Promise.resolve();
  }

  stop(): void {
    this.#onChange = undefined;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  current(): readonly AnyResource[] {
    return this.#resources;
  }

  /**
   * Reads the whole set now and reports the outcome (SIGHUP, tests). Returns the event, or
   * undefined when the text is what was last read.
   */
  reload(): SourceEvent | undefined {
    if (this.#watch && this.#onChange) this.#syncWatchers();
    let sources: SourceText[];
    try {
      sources = readSources(this.#paths);
    } catch (err) {
      // A path that vanished or cannot be read is a broken set, not an empty one.
      this.#lastRead = undefined;
      return this.#report({ type: 'rejected', errors: [readError(err)] });
    }
    const text = sources.map((s) => `${s.file}\0${s.text}`).join('\0\0');
    if (text === this.#lastRead) return undefined;
    this.#lastRead = text;
    const loaded = loadResources(sources, { duplicates: 'error' });
    if (!loaded.ok) return this.#report({ type: 'rejected', errors: loaded.diagnostics.filter((d) => d.level === 'Error') });
    this.#resources = loaded.resources;
    return this.#report({ type: 'accepted', resources: loaded.resources, warnings: loaded.diagnostics });
  }

  #report(event: SourceEvent): SourceEvent {
    this.#onChange?.(event);
    return event;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(), this.#debounceMs);
  }

  /** Watches every directory the paths cover (a file's own directory for a file path). */
  #syncWatchers(): void {
    const wanted = new Set<string>();
    for (const path of this.#paths) for (const dir of directoriesOf(path)) wanted.add(dir);
    for (const [dir, w] of this.#watchers) {
      if (wanted.has(dir)) continue;
      w.close();
      this.#watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, () => this.#schedule());
        // A watched directory that is removed errors; the next reload drops or re-adds it.
        w.on('error', () => {
          w.close();
          this.#watchers.delete(dir);
          this.#schedule();
        });
        this.#watchers.set(dir, w);
      } catch {
        // Gone between listing and watching: the reload this triggers reports it.
        this.#schedule();
      }
    }
  }
}

function directoriesOf(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    // Watch where it would appear, so creating it is noticed.
    return [dirname(path)];
  }
  if (!stat.isDirectory()) return [dirname(path)];
  const out = [path];
  let entries: string[] = [];
  try {
    entries = readdirSync(path);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    const child = join(path, entry);
    try {
      if (statSync(child).isDirectory()) out.push(...directoriesOf(child));
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

function readError(err: unknown): Diagnostic {
  const error = err as NodeJS.ErrnoException;
  const message = `cannot read the configuration: ${error.message ?? String(err)}`;
  return { code: Messages.InternalError.code, level: 'Error', message, ...(error.path ? { location: { file: error.path, line: 0, column: 0, path: '' } } : {}) };
}
