/**
 * The control plane's serving certificate for the push stream over TLS (istiod's 15012): issued
 * by the mesh CA itself, so proxies verify it against the same root they are given for mTLS (the
 * `istio-ca-root-cert` ConfigMap in Istio). Each replica makes its own key and certificate at
 * start, with the names proxies may dial it by: Istio's `istiod.<ns>.svc` and, for a revision,
 * `istiod-<rev>.<ns>.svc`, plus the addresses it listens on. Renewed at half its lifetime with a
 * new key, and at once when the CA changes (reissue); new handshakes get the new one while open
 * streams keep theirs.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { CertificateAuthority } from '../ca/index.js';
import type { Logger } from '../lib/log.js';

export interface ServingNames {
  dns: string[];
  ips: string[];
}

export interface ServingMaterial {
  key: string;
  /** PEM: the serving certificate and any intermediates. */
  cert: string;
  /** PEM: the mesh roots; proxies' client certificates must chain to them. */
  roots: string;
  notAfter: number;
}

/** Istio's names for a control plane, and the addresses it binds (every local one for a wildcard). */
export function servingNames(o: { namespace: string; revision?: string; bind: string; extra?: readonly string[] }): ServingNames {
  const dns = [`istiod.${o.namespace}.svc`];
  const rev = o.revision ?? '';
  if (rev !== '' && rev !== 'default') dns.push(`istiod-${rev}.${o.namespace}.svc`);
  const ips: string[] = [];
  const wildcard = o.bind === '0.0.0.0' || o.bind === '::';
  if (wildcard) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.push(a.address.split('%')[0] as string);
  } else if (isIP(o.bind)) ips.push(o.bind);
  else dns.push(o.bind);
  for (const name of o.extra ?? []) (isIP(name) ? ips : dns).push(name);
  return { dns: [...new Set(dns)], ips: [...new Set(ips)] };
}

export class ServingCertificate {
  readonly #ca: () => CertificateAuthority;
  readonly #roots: (() => string) | undefined;
  readonly #names: ServingNames;
  readonly #ttlMs: number;
  readonly #log: Logger | undefined;
  #current: ServingMaterial;
  #timer: NodeJS.Timeout | undefined;
  #onRenew: ((material: ServingMaterial) => void) | undefined;

  /**
   * `ca` is the CA that signs now (a function when it can change); `roots`, when given, the
   * bundle client certificates are verified against (during a CA change it holds old and new roots).
   */
  constructor(ca: CertificateAuthority | (() => CertificateAuthority), names: ServingNames, ttlMs: number, log?: Logger, roots?: () => string) {
    this.#ca = typeof ca === 'function' ? ca : () => ca;
    this.#roots = roots;
    this.#names = names;
    this.#ttlMs = ttlMs;
    this.#log = log;
    this.#current = this.#issue();
  }

  /** A new certificate from the CA that signs now, handed to `onRenew`; the half-life timer starts over. */
  reissue(): void {
    try {
      this.#current = this.#issue();
      this.#onRenew?.(this.#current);
      this.#log?.info('serving certificate reissued', { issuer: this.#ca().signingCertificate.subject || '(empty subject)' });
    } catch (err) {
      this.#log?.error('cannot reissue the serving certificate', { error: (err as Error).message });
    }
    const onRenew = this.#onRenew;
    if (onRenew) {
      clearTimeout(this.#timer);
      this.start(onRenew);
    }
  }

  /** The same certificate, verifying clients against the bundle as it is now. */
  refreshRoots(): void {
    if (!this.#roots) return;
    this.#current = { ...this.#current, roots: this.#roots() };
    this.#onRenew?.(this.#current);
  }

  current(): ServingMaterial {
    return this.#current;
  }

  /** Renews at half of each certificate's lifetime and hands every new one to `onRenew`. */
  start(onRenew: (material: ServingMaterial) => void): void {
    this.#onRenew = onRenew;
    const schedule = (): void => {
      const delay = Math.max(500, Math.floor((this.#current.notAfter - Date.now()) / 2));
      this.#timer = setTimeout(() => {
        try {
          this.#current = this.#issue();
          onRenew(this.#current);
          this.#log?.info('serving certificate renewed', { expires: new Date(this.#current.notAfter).toISOString() });
        } catch (err) {
          // The old one serves until it expires; try again at half of what is left.
          this.#log?.error('cannot renew the serving certificate', { error: (err as Error).message });
        }
        schedule();
      }, delay);
      this.#timer.unref();
    };
    schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#onRenew = undefined;
  }

  #issue(): ServingMaterial {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.now();
    // Backdated a minute, as workload certificates are, for proxies whose clock is a little behind.
    const issued = this.#ca().issueWithNames(publicKey.export({ type: 'spki', format: 'der' }), this.#names, new Date(now - 60_000), new Date(now + this.#ttlMs));
    return {
      key: String(privateKey.export({ type: 'pkcs8', format: 'pem' })),
      cert: issued.certificateChain,
      roots: this.#roots?.() ?? issued.trustBundle,
      notAfter: new Date(new X509Certificate(issued.certificateChain).validTo).getTime(),
    };
  }
}
