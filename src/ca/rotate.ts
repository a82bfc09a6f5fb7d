/**
 * Rotating the self-signed root, as istiod's self-signed root rotator does near expiry: a new
 * key and root replace ca-secret.pem, and the root it replaces stays in the trust bundle
 * (previous-roots.pem, with the end of its grace period) so certificates it signed keep
 * verifying until proxies have new ones. Running control planes reload the files (watch.ts).
 * The previous roots are written before the new secret, so a reader between the two writes
 * sees the old root twice, never a bundle without it.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOrCreateSecret } from '../lib/secret-file.js';
import { PREVIOUS_ROOTS_FILE, ROOT_TTL_MS, SELF_SIGNED_CA_FILE, certificates, newRoot, previousRoots } from './load.js';

export interface RotateOptions {
  /** How long the replaced root stays trusted (Istio keeps it in the bundle; default 24 h). */
  graceMs: number;
  trustDomain?: string;
  /** Lifetime of the new root; default ten years (CITADEL_SELF_SIGNED_CA_CERT_TTL). */
  rootTtlMs?: number;
  now?: Date;
}

export interface Rotated {
  previous: X509Certificate;
  current: X509Certificate;
  trustedUntil: Date;
}

export function rotateSelfSignedRoot(stateDir: string, o: RotateOptions): Rotated {
  const now = o.now ?? new Date();
  const path = join(stateDir, SELF_SIGNED_CA_FILE);
  if (!existsSync(path)) throw new Error(`${path}: no self-signed root to rotate (a control plane creates it when it first starts)`);
  const existing = readOrCreateSecret(path, () => newRoot(o.trustDomain ?? 'cluster.local', now), 'the CA key');
  const previous = certificates(existing, path)[0] as X509Certificate;
  const trustedUntil = new Date(Math.min(now.getTime() + o.graceMs, new Date(previous.validTo).getTime()));
  // Earlier previous roots keep their own grace; the expired ones are dropped for good.
  const kept = previousRoots(stateDir).filter((r) => r.until > now && r.cert.fingerprint256 !== previous.fingerprint256);
  const entries = [...kept, { cert: previous, until: trustedUntil }];
  atomicWrite(join(stateDir, PREVIOUS_ROOTS_FILE), entries.map((r) => `# trusted until ${r.until.toISOString()}\n${r.cert.toString()}`).join(''), 0o644);
  const text = newRoot(o.trustDomain ?? trustDomainOf(previous), now, o.rootTtlMs ?? ROOT_TTL_MS);
  atomicWrite(path, text, 0o600);
  return { previous, current: certificates(text, path)[0] as X509Certificate, trustedUntil };
}

/**
 * Istio's rotator test: the root is rotated once less than `gracePercent` of its lifetime is left
 * (CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE, default 20).
 */
export function rootNeedsRotation(root: X509Certificate, gracePercent: number, now = new Date()): boolean {
  const from = new Date(root.validFrom).getTime();
  const to = new Date(root.validTo).getTime();
  return to - now.getTime() < ((to - from) * gracePercent) / 100;
}

/** The self-signed root names the trust domain as its organisation (O=cluster.local). */
function trustDomainOf(root: X509Certificate): string {
  return /(?:^|\n)O=([^\n]+)/.exec(root.subject)?.[1] ?? 'cluster.local';
}

function atomicWrite(path: string, text: string, mode: number): void {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, text, { flag: 'wx', mode });
  renameSync(aside, path);
}
