/**
 * The pods' copy of the mesh root (root-cert.pem in each pod directory, Istio's
 * istio-ca-root-cert ConfigMap as the kubelet mounts it) kept current: when the CA's bundle
 * changes (a root rotated in, or one whose grace period ended), every pod's file is rewritten,
 * as the kubelet refreshes a ConfigMap volume. Proxies read it when they (re)connect to the
 * control plane. Checked every few seconds: a rotation is rare and proxies also get the bundle
 * pushed with their config.
 */
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function refreshPodRootCerts(o: { podsDir: string; meshRootCert: () => string | undefined; everyMs?: number; onError?: (error: string) => void }): { stop(): void } {
  let last = o.meshRootCert();
  const timer = setInterval(() => {
    const now = o.meshRootCert();
    if (now === undefined || now === last) return;
    last = now;
    for (const ns of list(o.podsDir)) {
      for (const pod of list(join(o.podsDir, ns))) {
        const path = join(o.podsDir, ns, pod, 'root-cert.pem');
        if (!existsSync(path)) continue;
        try {
          // Aside and renamed: a proxy reading it at that moment sees the old or the new bundle, whole.
          writeFileSync(`${path}.new`, now, { mode: 0o600 });
          renameSync(`${path}.new`, path);
        } catch (err) {
          o.onError?.(`${path}: ${(err as Error).message}`);
        }
      }
    }
  }, o.everyMs ?? 2_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
