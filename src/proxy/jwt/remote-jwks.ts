/**
 * Key sets the proxy fetches itself (a rule's jwksUri, or OpenID discovery on its issuer), as
 * Envoy's remote_jwks: the first request that needs the keys waits for the first fetch (bounded
 * by the rule's timeout) and fails with `Jwks remote fetch is failed` if it brings none; keys
 * older than the refresh interval (Istio's PILOT_JWT_PUB_KEY_REFRESH_INTERVAL, 20 min) are
 * refetched in the background while the old ones keep serving; a failed fetch keeps the cached
 * keys; a token whose kid no cached key has triggers one refetch, at most every few seconds, so
 * a key rotation is picked up at once without letting unknown kids hammer the JWKS server.
 * No timers: refreshes happen on use, so an unused set costs nothing and nothing leaks.
 */
import { silentLogger, type Logger } from '../../lib/log.js';
import { KeySet } from './jwks.js';
import { JwtError } from './token.js';

export interface JwksOptions {
  /** Age after which cached keys are refetched in the background. */
  refreshMs: number;
  /** Least time between fetches triggered by unknown kids or by failures with no keys yet. */
  minRefetchMs: number;
}

export const DEFAULT_JWKS_OPTIONS: JwksOptions = { refreshMs: 20 * 60_000, minRefetchMs: 5_000 };

/** Bodies above this are refused: a JWKS is a few keys, not megabytes. */
const MAX_BODY_BYTES = 1 << 20;

export class RemoteJwks {
  private keys: KeySet | undefined;
  private fetchedAt = 0;
  private attemptedAt = -Infinity;
  private inflight: Promise<void> | undefined;
  /** Why the last fetch failed, for the log and config_dump. */
  lastError = '';

  constructor(
    /** The JWKS URI, or for discovery `{ issuer }`. */
    readonly source: { uri: string } | { issuer: string },
    readonly timeoutMs: number,
    private readonly options: JwksOptions,
    private readonly log: () => Logger = () => silentLogger,
  ) {}

  /** The current keys, waiting for the first fetch if there are none; an error text if none came. */
  async current(): Promise<KeySet | string> {
    const now = Date.now();
    if (this.keys) {
      if (now - this.fetchedAt > this.options.refreshMs) void this.fetch();
      return this.keys;
    }
    if (this.inflight) await this.inflight;
    else if (now - this.attemptedAt >= this.options.minRefetchMs) await this.fetch();
    return this.keys ?? JwtError.fetchFailed;
  }

  /**
   * Called when a token names a kid the cached keys lack: refetches unless a fetch happened in
   * the last `minRefetchMs`, and returns the keys to retry with (undefined: nothing new).
   */
  async refetchForUnknownKid(): Promise<KeySet | undefined> {
    const before = this.keys;
    if (this.inflight) await this.inflight;
    else if (Date.now() - this.attemptedAt >= this.options.minRefetchMs) await this.fetch();
    return this.keys !== before ? this.keys : undefined;
  }

  /** Resolves once no fetch is in flight (a background refresh has landed or failed). */
  async idle(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  /** One fetch at a time; concurrent callers share it. */
  private fetch(): Promise<void> {
    if (this.inflight) return this.inflight;
    this.attemptedAt = Date.now();
    this.inflight = this.load().then(
      (keys) => {
        this.keys = keys;
        this.fetchedAt = Date.now();
        this.lastError = '';
      },
      (err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
        const source = 'uri' in this.source ? this.source.uri : `discovery for ${this.source.issuer}`;
        this.log().warn('JWKS fetch failed; cached keys, if any, stay in use', { jwks: source, error: this.lastError });
      },
    ).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<KeySet> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let uri: string;
    if ('uri' in this.source) {
      uri = this.source.uri;
    } else {
      // istiod's JwtKeyResolver: the issuer's OpenID configuration names the key set.
      const discovery = `${this.source.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const doc: unknown = JSON.parse(await fetchText(discovery, signal));
      const jwksUri = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).jwks_uri : undefined;
      if (typeof jwksUri !== 'string') throw new Error(`${discovery}: no jwks_uri`);
      uri = jwksUri;
    }
    const parsed = KeySet.parse(await fetchText(uri, signal));
    if (!(parsed instanceof KeySet)) throw new Error(`${uri}: ${parsed.error}`);
    return parsed;
  }
}

async function fetchText(uri: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(uri, { signal, redirect: 'follow', headers: { accept: 'application/json' } });
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new Error(`${uri}: HTTP ${res.status}`);
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw new Error(`${uri}: body of ${length} bytes is too large`);
  }
  const text = await res.text();
  if (text.length > MAX_BODY_BYTES) throw new Error(`${uri}: body is too large`);
  return text;
}

/**
 * The proxy's remote key sets, one per (source, timeout), shared by every config that names them
 * so a config push does not refetch keys it already has.
 */
export class JwksRegistry {
  private readonly sets = new Map<string, RemoteJwks>();
  /** Where fetch failures are reported; the proxy sets its own. */
  log: Logger = silentLogger;

  constructor(readonly options: JwksOptions = { ...DEFAULT_JWKS_OPTIONS }) {}

  get(source: { uri: string } | { issuer: string }, timeoutMs: number): RemoteJwks {
    const key = `${'uri' in source ? `uri:${source.uri}` : `iss:${source.issuer}`}|${timeoutMs}`;
    let set = this.sets.get(key);
    if (!set) {
      set = new RemoteJwks(source, timeoutMs, this.options, () => this.log);
      this.sets.set(key, set);
    }
    return set;
  }
}

/** The registry `weft proxy` uses. */
export const proxyJwks = new JwksRegistry();
