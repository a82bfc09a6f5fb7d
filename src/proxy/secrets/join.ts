/**
 * Joining the workload certificate to a config: the compiler names the mesh secrets (`default`,
 * `ROOTCA`) without material, and the proxy fills them from its own certificate, as Envoy gets
 * them over SDS. Both are always present once a certificate exists, because auto mTLS needs them
 * even where no listener names them. Material written in the config itself (a proxy started from
 * a file) is kept as is.
 */
import type { ProxyConfig, Secret } from '../../proxy-config/index.js';
import type { WorkloadMaterial } from './workload-certificate.js';

export const WORKLOAD_SECRET = 'default';
export const ROOT_CA_SECRET = 'ROOTCA';

export function withWorkloadSecrets(config: ProxyConfig, material: WorkloadMaterial | undefined): ProxyConfig {
  if (!material) return config;
  const secrets: Secret[] = [];
  let haveCert = false;
  let haveRoot = false;
  for (const s of config.secrets ?? []) {
    if (s.name === WORKLOAD_SECRET && !s.certificateChain) continue;
    if (s.name === ROOT_CA_SECRET && !s.trustedCa) continue;
    haveCert ||= s.name === WORKLOAD_SECRET;
    haveRoot ||= s.name === ROOT_CA_SECRET;
    secrets.push(s);
  }
  if (!haveCert) secrets.push({ name: WORKLOAD_SECRET, certificateChain: material.certificateChain, privateKey: material.privateKey });
  if (!haveRoot) secrets.push({ name: ROOT_CA_SECRET, trustedCa: material.trustBundle });
  return { ...config, secrets };
}
