/**
 * The CA's signing rate: certificates per second for one control plane core, for the self-signed
 * root (ECDSA P-256) and a plugged-in RSA 2048 intermediate (Istio's cacerts), and the proxy's side
 * of a rotation (key pair + CSR). Each signature verifies the CSR first, as every request does.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCsr } from '../src/lib/csr.js';
import { loadPluggedInCa, loadSelfSignedCa, type CertificateAuthority } from '../src/ca/index.js';
import { makeCacerts } from '../src/ca/testing.js';
import { measure } from './measure.js';

const identity = { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'bookinfo-reviews' };

export function benchCa(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-ca-'));
  try {
    const csr = buildCsr(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const selfSigned = loadSelfSignedCa(join(dir, 'state'));
    const sign = (ca: CertificateAuthority) => () => void ca.signCsr(csr, identity);
    const rows: [string, number | string][] = [['sign a workload certificate, self-signed EC P-256 root', measure(sign(selfSigned))]];
    try {
      makeCacerts(dir); // the openssl CLI makes the organisation's root and intermediate
      rows.push(['sign a workload certificate, plugged-in RSA 2048 intermediate', measure(sign(loadPluggedInCa(dir)))]);
    } catch (err) {
      rows.push(['sign a workload certificate, plugged-in RSA 2048 intermediate', `skipped: ${(err as Error).message.split('\n')[0] ?? ''}`]);
    }
    rows.push(['proxy: new EC P-256 key pair + CSR', measure(() => void buildCsr(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))]);
    return ['| benchmark | per second (one core) |', '|---|---:|', ...rows.map(([name, rate]) => `| ${name} | ${typeof rate === 'number' ? rate.toFixed(0) : rate} |`)].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
