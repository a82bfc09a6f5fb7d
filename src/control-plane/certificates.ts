/**
 * The control plane's side of the mesh CA while it changes: which CA signs, and which roots the
 * proxies trust (the trust bundle, sent with every config as the `ROOTCA` secret, as istiod sends
 * it over PCDS / the istio-ca-root-cert ConfigMap). A new CA (cacerts reloaded, self-signed root
 * rotated) is taken in two steps so no proxy ever meets a certificate its peer cannot verify yet:
 * first every root of the old and new CA is trusted and pushed, and only once the connected
 * proxies have acknowledged that (or a bounded wait ends) does the new CA start signing and the
 * bundle become the new CA's own. The signing certificate travels with the bundle, so a proxy
 * whose certificate another CA signed asks for a new one at once (Istio's agent does so when the
 * root changes) instead of waiting for half its lifetime.
 */
import { EventEmitter } from 'node:events';
import type { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../ca/index.js';
import type { ProxyConfig, Secret } from '../proxy-config/index.js';
import type { ProxyStatus } from '../distribution/index.js';

export const ROOT_CA_SECRET = 'ROOTCA';

export interface MeshCertificatesOptions {
  /** Resolves once the proxies have the bundle just announced (see waitForAcks). */
  propagated: () => Promise<void>;
}

export interface MeshCertificatesEvents {
  /** The trust bundle changed (proxies need a push). */
  bundle: [bundle: string];
  /** A CA with another signing certificate signs from now on (a push, and a new serving certificate). */
  signer: [ca: CertificateAuthority];
  /** A replace finished: the new CA signs and the bundle is its own. */
  settled: [ca: CertificateAuthority, signerChanged: boolean];
}

export class MeshCertificates extends EventEmitter<MeshCertificatesEvents> {
  readonly #options: MeshCertificatesOptions;
  #signer: CertificateAuthority;
  #roots: readonly X509Certificate[];
  #bundle: string;
  #generation = 0;

  constructor(ca: CertificateAuthority, options: MeshCertificatesOptions) {
    super();
    this.#options = options;
    this.#signer = ca;
    this.#roots = ca.roots;
    this.#bundle = ca.trustBundle;
  }

  signer(): CertificateAuthority {
    return this.#signer;
  }

  trustBundle(): string {
    return this.#bundle;
  }

  /** The config with the mesh trust bundle and the signing certificate in its `ROOTCA` secret. */
  attach(config: ProxyConfig): ProxyConfig {
    const root: Secret = { name: ROOT_CA_SECRET, trustedCa: this.#bundle, signingCa: this.#signer.signingCertificate.toString() };
    return { ...config, secrets: [...config.secrets.filter((s) => s.name !== ROOT_CA_SECRET), root] };
  }

  /** Takes a new CA in two steps (see the header). A newer call supersedes one still waiting. */
  async replace(next: CertificateAuthority): Promise<void> {
    const generation = ++this.#generation;
    const union = unionRoots(this.#roots, next.roots);
    const bundle = union.map((c) => c.toString()).join('');
    if (bundle !== this.#bundle) {
      this.#roots = union;
      this.#bundle = bundle;
      this.emit('bundle', bundle);
      await this.#options.propagated();
      if (generation !== this.#generation) return;
    }
    const signerChanged = next.signingCertificate.fingerprint256 !== this.#signer.signingCertificate.fingerprint256;
    this.#signer = next;
    const changed = next.trustBundle !== this.#bundle;
    this.#roots = next.roots;
    this.#bundle = next.trustBundle;
    if (changed) this.emit('bundle', this.#bundle);
    if (signerChanged) this.emit('signer', next);
    this.emit('settled', next, signerChanged);
  }
}

function unionRoots(a: readonly X509Certificate[], b: readonly X509Certificate[]): X509Certificate[] {
  const out = [...a];
  for (const c of b) if (!out.some((o) => o.fingerprint256 === c.fingerprint256)) out.push(c);
  return out;
}

/**
 * Resolves when every proxy connected now has ACKed a config newer than the one it had, or has
 * gone, or after `maxMs`; and not before `minMs`, so replicas that read the files a little apart
 * have each pushed to their own proxies before any of them starts signing with the new CA.
 */
export async function waitForAcks(proxies: () => ProxyStatus[], o: { minMs: number; maxMs: number; pollMs?: number }): Promise<void> {
  const start = Date.now();
  const before = new Map(proxies().map((p) => [p.nodeId, p.ackedVersion]));
  const poll = o.pollMs ?? 50;
  for (;;) {
    const elapsed = Date.now() - start;
    if (elapsed >= o.maxMs) return;
    const now = new Map(proxies().map((p) => [p.nodeId, p]));
    const pending = [...before].filter(([id, acked]) => {
      const p = now.get(id);
      return p !== undefined && (p.ackedVersion === acked || p.ackedVersion !== p.sentVersion);
    });
    if (pending.length === 0 && elapsed >= o.minMs) return;
    await new Promise((resolve) => setTimeout(resolve, poll));
  }
}
