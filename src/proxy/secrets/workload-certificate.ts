/**
 * The proxy's workload certificate, as istio-agent keeps it: a key pair generated here (ECDSA
 * P-256; the private key never leaves the process), a CSR sent to the control plane's CA, and
 * the signed chain plus trust bundle kept in memory. Renewed with a fresh key at half of the
 * certificate's remaining lifetime (Istio's SECRET_GRACE_PERIOD_RATIO 0.5); a failed request is
 * retried with backoff while the current certificate keeps serving; renewNow replaces it at once
 * when the mesh CA changed (ca-change.ts). Each new certificate is
 * announced so the proxy swaps it into new TLS contexts (existing connections keep theirs).
 */
import { EventEmitter } from 'node:events';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { buildCsr } from '../../lib/csr.js';
import type { Logger } from '../../lib/log.js';
import type { IssuedCertificate } from '../../distribution/protocol.js';

export interface WorkloadMaterial {
  /** PEM chain: the workload certificate, then intermediates. */
  certificateChain: string;
  /** PEM PKCS#8. */
  privateKey: string;
  /** PEM root certificates. */
  trustBundle: string;
  /** Expiry of the workload certificate, ms since the epoch. */
  notAfter: number;
}

export interface WorkloadCertificateOptions {
  /** Sends a CSR to the CA; rejects when it cannot (not connected, refused). */
  sign: (csr: string) => Promise<IssuedCertificate>;
  log: Logger;
  /** Share of the remaining lifetime after which the certificate is renewed; default 0.5. */
  renewAt?: number;
  /** First retry delay after a failed request, doubling up to maxRetryMs. Defaults 250 and 5 000. */
  retryMs?: number;
  maxRetryMs?: number;
  now?: () => number;
}

export interface WorkloadCertificateEvents {
  /** A new certificate is in place (the first one too). */
  rotated: [material: WorkloadMaterial];
  /** A request failed (it is retried). */
  failed: [error: string];
}

export class WorkloadCertificate extends EventEmitter<WorkloadCertificateEvents> {
  readonly #options: WorkloadCertificateOptions;
  readonly #now: () => number;
  #current: WorkloadMaterial | undefined;
  #timer: NodeJS.Timeout | undefined;
  #requesting = false;
  #failures = 0;
  #stopped = true;
  /** A renewal asked for while a request was in flight: that request may be answered by the old CA. */
  #again = false;

  constructor(options: WorkloadCertificateOptions) {
    super();
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  current(): WorkloadMaterial | undefined {
    return this.#current;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#request();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Requests now if the last attempt failed and is waiting to retry (e.g. the stream just came back). */
  retryNow(): void {
    if (this.#stopped || this.#requesting || this.#failures === 0) return;
    clearTimeout(this.#timer);
    void this.#request();
  }

  /** Requests a new certificate now (the CA changed); a request in flight is followed by another. */
  renewNow(reason: string): void {
    if (this.#stopped) return;
    if (this.#requesting) {
      this.#again = true;
      return;
    }
    this.#options.log.info('renewing the workload certificate now', { reason });
    clearTimeout(this.#timer);
    void this.#request();
  }

  /**
   * Resolves true once a certificate is in place; false when a request fails (no CA, refused) or
   * after `timeoutMs`, so a proxy whose control plane issues nothing is not held back.
   */
  ready(timeoutMs: number): Promise<boolean> {
    if (this.#current) return Promise.resolve(true);
    if (this.#failures > 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (ok: boolean): void => {
        clearTimeout(timer);
        this.off('rotated', installed);
        this.off('failed', failed);
        resolve(ok);
      };
      const installed = (): void => settle(true);
      const failed = (): void => settle(false);
      const timer = setTimeout(() => settle(false), timeoutMs);
      this.once('rotated', installed);
      this.once('failed', failed);
    });
  }

  async #request(): Promise<void> {
    if (this.#stopped || this.#requesting) return;
    this.#requesting = true;
    try {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const issued = await this.#options.sign(buildCsr(privateKey));
      const leaf = new X509Certificate(issued.certificateChain);
      if (!leaf.checkPrivateKey(privateKey)) throw new Error('the issued certificate does not carry this proxy\'s key');
      const material: WorkloadMaterial = {
        certificateChain: issued.certificateChain,
        privateKey: String(privateKey.export({ type: 'pkcs8', format: 'pem' })),
        trustBundle: issued.trustBundle,
        notAfter: new Date(leaf.validTo).getTime(),
      };
      this.#current = material;
      this.#failures = 0;
      if (this.#stopped) return;
      // From receipt, not from notBefore: the CA backdates notBefore for clock skew.
      const remaining = material.notAfter - this.#now();
      const delay = Math.max(500, Math.floor(remaining * (this.#options.renewAt ?? 0.5)));
      this.#options.log.info('workload certificate installed', { identity: leaf.subjectAltName, expires: leaf.validTo, renewInMs: delay });
      this.#schedule(delay);
      this.emit('rotated', material);
    } catch (err) {
      this.#failures++;
      const delay = Math.min(this.#options.maxRetryMs ?? 5_000, (this.#options.retryMs ?? 250) * 2 ** (this.#failures - 1));
      const error = err instanceof Error ? err.message : String(err);
      this.#options.log.warn('workload certificate request failed; retrying', { error, retryInMs: delay });
      this.#schedule(delay);
      this.emit('failed', error);
    } finally {
      this.#requesting = false;
      if (this.#again) {
        this.#again = false;
        this.#schedule(0);
      }
    }
  }

  #schedule(delay: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#request(), delay);
    this.#timer.unref();
  }
}
