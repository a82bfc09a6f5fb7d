/**
 * Test fixtures for the CA: an organisation's root and intermediate made with the openssl CLI
 * (an independent implementation), laid out as Istio's `cacerts`; and openssl's own verdict on
 * a chain; workload certificates issued straight from a CA. Not used outside tests.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateAuthority, WorkloadIdentity } from './index.js';

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes ca-cert.pem, ca-key.pem (RSA 2048 intermediate), root-cert.pem (EC root), cert-chain.pem into `dir`. */
export function makeCacerts(dir: string, org = 'Example Corp'): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root-key.pem', '-out', 'root-cert.pem',
    '-days', '3650', '-subj', `/O=${org}/CN=Root CA`, '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.csr', '-subj', `/O=${org}/CN=Intermediate CA`], dir);
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl(['x509', '-req', '-in', 'ca.csr', '-CA', 'root-cert.pem', '-CAkey', 'root-key.pem', '-CAcreateserial', '-out', 'ca-cert.pem', '-days', '365', '-extfile', 'ca.ext'], dir);
  writeFileSync(join(dir, 'cert-chain.pem'), readFileSync(join(dir, 'ca-cert.pem'), 'utf8') + readFileSync(join(dir, 'root-cert.pem'), 'utf8'));
}

/** openssl verify of a leaf (first certificate of `chainPem`) with the rest as untrusted intermediates. */
export function opensslVerify(dir: string, chainPem: string, rootPem: string, purpose: 'sslclient' | 'sslserver'): string {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
  writeFileSync(join(dir, 'leaf.pem'), blocks[0] ?? '');
  writeFileSync(join(dir, 'untrusted.pem'), blocks.slice(1).join(''));
  writeFileSync(join(dir, 'trusted.pem'), rootPem);
  const args = ['verify', '-purpose', purpose, '-CAfile', 'trusted.pem', ...(blocks.length > 1 ? ['-untrusted', 'untrusted.pem'] : []), 'leaf.pem'];
  try {
    return openssl(args, dir).trim();
  } catch (err) {
    return String((err as { stderr?: string; stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
  }
}

/**
 * A workload certificate for `who` straight from `ca`, for a new P-256 key: what a sidecar would
 * hold, for test clients and servers that stand in for one. Valid from a minute ago for an hour
 * unless told (epoch milliseconds). `ca` is the trust bundle to verify peers with.
 */
export function issueTestCertificate(ca: CertificateAuthority, who: WorkloadIdentity, validFrom = Date.now() - 60_000, validTo = Date.now() + 3_600_000): { cert: string; key: string; ca: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issued = ca.issue(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }), who, new Date(validFrom), new Date(validTo));
  return { cert: issued.certificateChain, key: String(privateKey.export({ type: 'pkcs8', format: 'pem' })), ca: issued.trustBundle };
}
