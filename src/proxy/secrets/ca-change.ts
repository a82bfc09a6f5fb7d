/**
 * Whether the mesh CA moved on from the proxy's certificate. The control plane sends, in the
 * `ROOTCA` secret, the trust bundle and the certificate its CA signs with now; a workload
 * certificate another CA signed, or one that no root in the bundle verifies any more, is replaced
 * at once (Istio's agent rotates when the root changes) rather than at half its lifetime, so a
 * CA migration does not wait a day for every proxy.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ProxyConfig } from '../../proxy-config/index.js';
import { ROOT_CA_SECRET } from './join.js';
import type { WorkloadMaterial } from './workload-certificate.js';

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Why the certificate must be replaced now, or undefined when it is still the CA's own. */
export function caMovedOn(config: ProxyConfig, material: WorkloadMaterial | undefined): string | undefined {
  if (!material) return undefined;
  const root = config.secrets.find((s) => s.name === ROOT_CA_SECRET);
  if (root?.signingCa === undefined && root?.trustedCa === undefined) return undefined;
  try {
    const chain = (material.certificateChain.match(CERTIFICATE) ?? []).map((pem) => new X509Certificate(pem));
    const leaf = chain[0];
    if (!leaf) return undefined;
    if (root.signingCa !== undefined) {
      const signer = new X509Certificate(root.signingCa);
      if (!(leaf.checkIssued(signer) && leaf.verify(signer.publicKey))) return `the mesh CA now signs with ${signer.subject.replace(/\n/g, ', ') || '(empty subject)'}`;
    }
    if (root.trustedCa !== undefined) {
      const roots = (root.trustedCa.match(CERTIFICATE) ?? []).map((pem) => new X509Certificate(pem));
      const top = chain[chain.length - 1] as X509Certificate;
      const anchored = roots.some((r) => r.fingerprint256 === top.fingerprint256 || (top.checkIssued(r) && top.verify(r.publicKey)));
      if (!anchored) return 'no root in the trust bundle verifies the current certificate';
    }
  } catch {
    // Unreadable material: the TLS layer reports it; no reason to churn certificates here.
    return undefined;
  }
  return undefined;
}

/**
 * The roots the control plane's serving certificate is verified against: the mounted root file
 * as it is now (the runtime rewrites it when the CA changes) and the bundle the control plane
 * pushed, so a proxy reconnecting after a root rotation trusts the new root. Keeps `fallback`
 * when the file cannot be read.
 */
export function controlPlaneRoots(rootCertFile: string, config: ProxyConfig, fallback: string): string {
  let file = fallback;
  try {
    const text = readFileSync(rootCertFile, 'utf8');
    if (text.includes('-----BEGIN CERTIFICATE-----')) file = text;
  } catch {
    // The file went away for a moment (being rewritten): the roots held so far still apply.
  }
  const pushed = config.secrets.find((s) => s.name === ROOT_CA_SECRET)?.trustedCa ?? '';
  const blocks = [...(file.match(CERTIFICATE) ?? []), ...(pushed.match(CERTIFICATE) ?? [])];
  return [...new Set(blocks)].map((b) => `${b}\n`).join('');
}
