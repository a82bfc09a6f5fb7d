/**
 * List-then-watch of one collection, as client-go's reflector does it: list (in pages), then watch
 * from the list's resourceVersion with bookmarks, so a quiet collection still advances its
 * version and a reconnect resumes where it left off. A watch the server ends (its timeout) is
 * reopened at once; a dropped connection or a failed request is retried with jittered, doubling
 * backoff; "410 Gone" (the version was compacted away) means events were missed, so the
 * collection is listed again and replaced whole.
 */
import { ApiError, type ApiClient, type WatchEvent, type WatchHandle } from './client.js';

type Mapping = Record<string, unknown>;

export interface InformerHandlers {
  /** The whole collection, after a list (initial or after 410). */
  replace(objects: Mapping[]): void;
  upsert(object: Mapping): void;
  remove(object: Mapping): void;
  /** A failure that will be retried (for logs). */
  retrying(error: Error, delayMs: number): void;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface InformerOptions {
  client: ApiClient;
  /** Collection URL, e.g. `/apis/networking.istio.io/v1/virtualservices`. */
  path: string;
  /** apiVersion and kind stamped on list items (core lists omit them). */
  apiVersion: string;
  kind: string;
  /** Extra query, e.g. `fieldSelector=metadata.name%3Distio`. */
  query?: string;
  handlers: InformerHandlers;
  backoff?: Backoff;
  /** Server-side watch timeout; the watch is then reopened from the last version. */
  watchTimeoutSeconds?: number;
  pageSize?: number;
}

interface ListBody { metadata?: { resourceVersion?: string; continue?: string }; items?: Mapping[] }

export class Informer {
  readonly #o: InformerOptions;
  #resourceVersion = '';
  #stopped = false;
  #watch: WatchHandle | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #failures = 0;
  #synced: Promise<void>;
  #markSynced!: () => void;

  constructor(options: InformerOptions) {
    this.#o = options;
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  /** Resolves after the first successful list. */
  synced(): Promise<void> {
    return this.#synced;
  }

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.abort();
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  async #run(): Promise<void> {
    let needList = true;
    while (!this.#stopped) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
          this.#markSynced();
        }
        await this.#watchOnce();
        // The server ended the watch (its timeout): reopen from the last version at once.
        this.#failures = 0;
      } catch (err) {
        if (this.#stopped) return;
        const error = err instanceof Error ? err : new Error(String(err));
        if (isGone(error)) {
          // Events were compacted away: only a fresh list is complete.
          needList = true;
          this.#o.handlers.retrying(error, 0);
          continue;
        }
        const delay = this.#delay();
        this.#o.handlers.retrying(error, delay);
        await this.#sleep(delay);
      }
    }
  }

  async #list(): Promise<void> {
    const items: Mapping[] = [];
    let cont = '';
    let version = '';
    do {
      const query = [this.#o.query, `limit=${this.#o.pageSize ?? 500}`, cont ? `continue=${encodeURIComponent(cont)}` : ''].filter(Boolean).join('&');
      const body = await this.#o.client.getJson<ListBody>(`${this.#o.path}?${query}`);
      for (const item of body.items ?? []) items.push({ ...item, apiVersion: this.#o.apiVersion, kind: this.#o.kind });
      cont = body.metadata?.continue ?? '';
      version = body.metadata?.resourceVersion ?? version;
    } while (cont);
    this.#resourceVersion = version;
    this.#failures = 0;
    this.#o.handlers.replace(items);
  }

  async #watchOnce(): Promise<void> {
    const timeoutSeconds = this.#o.watchTimeoutSeconds ?? 300;
    const query = [this.#o.query, 'watch=1', 'allowWatchBookmarks=true', `resourceVersion=${encodeURIComponent(this.#resourceVersion)}`, `timeoutSeconds=${timeoutSeconds}`]
      .filter(Boolean).join('&');
    let gone: Error | undefined;
    const handle = this.#o.client.watch(`${this.#o.path}?${query}`, (event) => {
      if (gone) return;
      gone = this.#onEvent(event);
      if (gone) handle.abort();
    }, (timeoutSeconds + 60) * 1000);
    this.#watch = handle;
    try {
      await handle.done;
    } catch (err) {
      if (!gone) throw err;
    } finally {
      this.#watch = undefined;
    }
    if (gone) throw gone;
  }

  /** Applies one event; returns an error when the watch must end (an ERROR event). */
  #onEvent(event: WatchEvent): Error | undefined {
    const object = event.object ?? {};
    if (event.type === 'ERROR') {
      const code = typeof object.code === 'number' ? object.code : 0;
      return new ApiError(code, this.#o.path, typeof object.message === 'string' ? object.message : 'watch error');
    }
    const version = (object.metadata as Mapping | undefined)?.resourceVersion;
    if (typeof version === 'string' && version !== '') this.#resourceVersion = version;
    // A healthy event stream resets the backoff, so one bad minute long ago does not slow a reconnect.
    this.#failures = 0;
    if (event.type === 'BOOKMARK') return undefined;
    const stamped = { ...object, apiVersion: this.#o.apiVersion, kind: this.#o.kind };
    if (event.type === 'DELETED') this.#o.handlers.remove(stamped);
    else this.#o.handlers.upsert(stamped);
    return undefined;
  }

  #delay(): number {
    const { initialMs, maxMs } = this.#o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.#failures, 20));
    this.#failures++;
    // Full jitter in [base/2, base]: replicas and collections do not reconnect in lockstep.
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }
}

function isGone(err: Error): boolean {
  return err instanceof ApiError && (err.status === 410 || /too old resource version/i.test(err.message));
}
