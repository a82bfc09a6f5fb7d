/**
 * The mesh root certificate as pods see it: what Istio's `istio-ca-root-cert` ConfigMap holds and
 * the kubelet mounts at /var/run/secrets/istio/root-cert.pem. The control plane's CA writes it
 * beside its key the first time it starts; until then there is none and proxies wait for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT_CERT_FILE, SELF_SIGNED_CA_FILE } from '../ca/load.js';

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g;

export function meshRootCert(caDir: string): string | undefined {
  for (const name of [ROOT_CERT_FILE, SELF_SIGNED_CA_FILE]) {
    const path = join(caDir, name);
    if (!existsSync(path)) continue;
    // The CA file holds the key too: only its certificates leave it. root-cert.pem is a
    // best-effort copy, so the CA file is the fallback when it could not be written.
    const certs = readFileSync(path, 'utf8').match(CERTIFICATE);
    if (certs && certs.length > 0) return certs.map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('');
  }
  return undefined;
}
