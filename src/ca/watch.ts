/**
 * The CA's files, watched: istiod reloads a plugged-in `cacerts` directory when its files change,
 * and this does the same for both kinds of CA (the self-signed root changes when it is rotated,
 * and its bundle when a previous root's grace period ends). The files are read again every
 * interval (cheap: a few small PEM files) rather than through fs.watch, which misses renames and
 * Kubernetes' symlink swaps. A set that does not load (half written, inconsistent) is refused
 * with the loader's message naming the file, and the CA loaded before keeps signing; a copy in
 * progress usually fails once, so a failure is reported only when the next read fails the same way.
 */
import { EventEmitter } from 'node:events';
import type { CertificateAuthority } from './authority.js';

export interface CaWatcherOptions {
  /** Reads and checks the files; throws (naming the file) when they do not make a CA. */
  load: () => CertificateAuthority;
  /** How often the files are read; default 1 s. */
  intervalMs?: number;
  /**
   * Self-signed only: called every check (istiod's CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL)
   * with the CA in use; returns true when it rotated the root (the next read picks it up).
   */
  rotate?: { everyMs: number; check: (ca: CertificateAuthority) => boolean };
}

export interface CaWatcherEvents {
  /** A new, consistent set is loaded. */
  changed: [ca: CertificateAuthority, previous: CertificateAuthority];
  /** The files changed into a set that does not load; the previous CA stays. */
  refused: [error: string];
}

export class CaWatcher extends EventEmitter<CaWatcherEvents> {
  readonly #options: CaWatcherOptions;
  #current: CertificateAuthority;
  #timer: NodeJS.Timeout | undefined;
  #rotateTimer: NodeJS.Timeout | undefined;
  #lastError: string | undefined;
  #reported: string | undefined;

  /** Loads once; throws when the files do not make a CA (a control plane must not start without one). */
  constructor(options: CaWatcherOptions) {
    super();
    this.#options = options;
    this.#current = options.load();
  }

  current(): CertificateAuthority {
    return this.#current;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.check(), this.#options.intervalMs ?? 1_000);
    this.#timer.unref();
    const rotate = this.#options.rotate;
    if (rotate) {
      this.#rotateTimer = setInterval(() => {
        try {
          if (rotate.check(this.#current)) this.check();
        } catch (err) {
          this.emit('refused', `cannot rotate the root: ${(err as Error).message}`);
        }
      }, rotate.everyMs);
      this.#rotateTimer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#rotateTimer);
    this.#timer = undefined;
  }

  /** Reads the files now; the interval calls this. */
  check(): void {
    let next: CertificateAuthority;
    try {
      next = this.#options.load();
    } catch (err) {
      const message = (err as Error).message;
      if (message === this.#lastError && message !== this.#reported) {
        this.#reported = message;
        this.emit('refused', message);
      }
      this.#lastError = message;
      return;
    }
    this.#lastError = undefined;
    this.#reported = undefined;
    if (next.identity === this.#current.identity) return;
    const previous = this.#current;
    this.#current = next;
    this.emit('changed', next, previous);
  }
}
