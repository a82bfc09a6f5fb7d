/**
 * The control plane's CA files, watched (istiod's cacerts reload and self-signed root rotator):
 * a plugged-in `cacerts` directory or the self-signed root's directory is read again every
 * `reloadMs`; a changed, consistent set goes to ControlPlane.replaceCa, an inconsistent one is
 * logged naming the file and the CA in use keeps signing. For the self-signed root, every
 * `rootCheckMs` the root's remaining lifetime is checked and the root rotated when less than
 * `rootGracePercent` of it is left, the old root staying trusted for `rootRotationGraceMs`.
 */
import { CaWatcher, loadPluggedInCa, loadSelfSignedCa, rootNeedsRotation, rotateSelfSignedRoot } from '../ca/index.js';
import type { Logger } from '../lib/log.js';

export interface CaFilesOptions {
  cacerts?: string;
  /** The self-signed root's directory, when there is no cacerts. */
  selfSigned?: string;
  reloadMs: number;
  /** 0: never rotate the self-signed root. */
  rootCheckMs: number;
  rootGracePercent: number;
  rootRotationGraceMs: number;
  log: Logger;
}

export function watchCaFiles(o: CaFilesOptions): CaWatcher {
  const dir = o.cacerts ?? o.selfSigned;
  if (dir === undefined) throw new Error('watchCaFiles: give cacerts or selfSigned');
  if (!(o.reloadMs >= 100)) throw new Error('--ca-reload-interval: at least 100ms');
  if (!(o.rootGracePercent > 0 && o.rootGracePercent < 100)) throw new Error('--self-signed-root-grace-percentile: a number between 0 and 100');
  const selfSigned = o.cacerts === undefined;
  const watcher = new CaWatcher({
    load: () => (selfSigned ? loadSelfSignedCa(dir) : loadPluggedInCa(dir)),
    intervalMs: o.reloadMs,
    ...(selfSigned && o.rootCheckMs > 0 ? {
      rotate: {
        everyMs: o.rootCheckMs,
        check: (ca) => {
          if (!rootNeedsRotation(ca.signingCertificate, o.rootGracePercent)) return false;
          // Replicas on one directory check at about the same time: the first rotates, the others
          // then see a root that is new and has its whole life ahead.
          const fresh = loadSelfSignedCa(dir);
          if (!rootNeedsRotation(fresh.signingCertificate, o.rootGracePercent)) return true;
          const rotated = rotateSelfSignedRoot(dir, { graceMs: o.rootRotationGraceMs, rootTtlMs: lifetime(ca.signingCertificate) });
          o.log.info('self-signed root rotated', { previous: rotated.previous.serialNumber, current: rotated.current.serialNumber, previousTrustedUntil: rotated.trustedUntil.toISOString() });
          return true;
        },
      },
    } : {}),
  });
  watcher.on('refused', (error) => o.log.error('CA files changed but cannot be used; the current CA keeps signing', { error }));
  watcher.on('changed', (ca, previous) => o.log.info('CA files changed', {
    source: ca.source, signer: ca.signingCertificate.subject.replace(/\n/g, ', ') || '(empty subject)', roots: ca.roots.length,
    signerChanged: ca.signingCertificate.fingerprint256 !== previous.signingCertificate.fingerprint256,
  }));
  return watcher;
}

/** A rotated root lives as long as the one it replaces (ten years unless a test made a short one). */
function lifetime(root: { validFrom: string; validTo: string }): number {
  return new Date(root.validTo).getTime() - new Date(root.validFrom).getTime();
}
