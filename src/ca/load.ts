/**
 * Where the CA's key and certificates come from. Self-signed (istiod's default): a root created
 * once in the control plane's state directory, key and certificate in one file of mode 0600,
 * written aside and linked into place so replicas starting together agree on one root (as the
 * token key); after a rotation (rotate.ts) the roots it replaced stay in the trust bundle until
 * the time written beside each in previous-roots.pem. Plugged in (Istio's `cacerts` secret, `--cacerts DIR`): ca-cert.pem, ca-key.pem,
 * root-cert.pem and cert-chain.pem, checked to fit together before anything is signed.
 */
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pemBlocks, toPem } from '../lib/der.js';
import { readOrCreateSecret } from '../lib/secret-file.js';
import { CertificateAuthority, keyMatchesCertificate } from './authority.js';
import { KEY_USAGE, basicConstraints, buildCertificate, keyIdentifier, keyUsage, organizationName, subjectKeyId } from './x509.js';

/** Key and root certificate of the self-signed CA. */
export const SELF_SIGNED_CA_FILE = 'ca-secret.pem';
/** The root certificate alone, readable, for clients outside the mesh (curl --cacert). */
export const ROOT_CERT_FILE = 'root-cert.pem';
/** Roots a rotation replaced, each trusted until the time on the line above it (rotate.ts writes it). */
export const PREVIOUS_ROOTS_FILE = 'previous-roots.pem';
/** Istio's self-signed root lifetime (CITADEL_SELF_SIGNED_CA_CERT_TTL): ten years. */
export const ROOT_TTL_MS = 10 * 365 * 24 * 3600_000;

export function loadSelfSignedCa(stateDir: string, trustDomain = 'cluster.local', now = new Date()): CertificateAuthority {
  const path = join(stateDir, SELF_SIGNED_CA_FILE);
  const text = readOrCreateSecret(path, () => newRoot(trustDomain, now), 'the CA key');
  const certs = certificates(text, path);
  const key = privateKey(text, path);
  const cert = certs[0] as X509Certificate;
  if (!keyMatchesCertificate(key, cert)) throw new Error(`${path}: the private key does not belong to the certificate`);
  const previous = previousRoots(stateDir).filter((r) => r.until > now && new Date(r.cert.validTo) > now && r.cert.fingerprint256 !== cert.fingerprint256);
  const roots = [cert, ...previous.map((r) => r.cert)];
  writeRootCert(stateDir, roots.map((r) => r.toString()).join(''));
  return new CertificateAuthority({ cert, key, intermediates: [], roots, source: 'self-signed' });
}

export interface PreviousRoot {
  cert: X509Certificate;
  /** The end of its grace period: it leaves the trust bundle then. */
  until: Date;
}

/** The roots a rotation replaced, with the end of each one's grace period; none when the file is missing. */
export function previousRoots(stateDir: string): PreviousRoot[] {
  const path = join(stateDir, PREVIOUS_ROOTS_FILE);
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const out: PreviousRoot[] = [];
  for (const m of text.matchAll(/^# trusted until (\S+)\s*\n(-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----)/gm)) {
    const until = new Date(m[1] ?? '');
    if (Number.isNaN(until.getTime())) throw new Error(`${path}: ${JSON.stringify(m[1])} is not a time (expected ISO 8601)`);
    out.push({ cert: certificates(m[2] ?? '', path)[0] as X509Certificate, until });
  }
  return out;
}

/** A new self-signed root, key first: the text of ca-secret.pem. */
export function newRoot(trustDomain: string, now: Date, ttlMs = ROOT_TTL_MS): string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = organizationName(trustDomain);
  const der = buildCertificate({
    subject: name,
    issuer: name,
    publicKey: spki,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + ttlMs),
    extensions: [
      keyUsage(KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign),
      basicConstraints(true),
      subjectKeyId(keyIdentifier(spki)),
    ],
    signingKey: privateKey,
  });
  return String(privateKey.export({ type: 'pkcs8', format: 'pem' })) + toPem(der, 'CERTIFICATE');
}

/** Best effort, replaced atomically: it is public material and may be rewritten by any replica. */
function writeRootCert(stateDir: string, pem: string): void {
  const path = join(stateDir, ROOT_CERT_FILE);
  try {
    if (existsSync(path) && readFileSync(path, 'utf8') === pem) return;
    const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(aside, pem, { mode: 0o644 });
    renameSync(aside, path);
  } catch {
    // Only a convenience for clients outside the mesh; the CA works without it.
  }
}

export const CACERTS_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const;

/** Istio's plugged-in CA: signs with ca-cert.pem / ca-key.pem, an intermediate under root-cert.pem. */
export function loadPluggedInCa(dir: string, now = new Date()): CertificateAuthority {
  const read = (name: string, required: boolean): string | undefined => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      if (required) throw new Error(`${path}: missing (a cacerts directory holds ${CACERTS_FILES.join(', ')})`);
      return undefined;
    }
    return readFileSync(path, 'utf8');
  };
  const caCertPath = join(dir, 'ca-cert.pem');
  const cert = certificates(read('ca-cert.pem', true) as string, caCertPath)[0] as X509Certificate;
  const key = privateKey(read('ca-key.pem', true) as string, join(dir, 'ca-key.pem'));
  const roots = certificates(read('root-cert.pem', true) as string, join(dir, 'root-cert.pem'));
  const chainText = read('cert-chain.pem', false);
  const chain = chainText === undefined ? [] : certificates(chainText, join(dir, 'cert-chain.pem'));
  if (!keyMatchesCertificate(key, cert)) throw new Error(`${join(dir, 'ca-key.pem')}: the private key does not belong to ${caCertPath}`);
  if (!cert.ca) throw new Error(`${caCertPath}: not a CA certificate (basicConstraints CA:TRUE is required to sign workload certificates)`);
  if (new Date(cert.validTo) <= now) throw new Error(`${caCertPath}: expired on ${cert.validTo}`);
  // cert-chain.pem is ca-cert.pem followed by any intermediates and usually the root: keep what lies between.
  const intermediates = chain.filter((c) => c.fingerprint256 !== cert.fingerprint256 && !roots.some((r) => r.fingerprint256 === c.fingerprint256) && !selfSigned(c));
  const path = [cert, ...intermediates];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i] as X509Certificate;
    const parent = path[i + 1] as X509Certificate;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new Error(`${join(dir, 'cert-chain.pem')}: ${child.subject.replace(/\n/g, ', ') || '(empty subject)'} is not signed by the next certificate in the chain`);
    }
  }
  const top = path[path.length - 1] as X509Certificate;
  if (!roots.some((r) => top.checkIssued(r) && top.verify(r.publicKey))) {
    throw new Error(`${caCertPath}: the chain does not lead to a certificate in root-cert.pem`);
  }
  return new CertificateAuthority({ cert, key, intermediates, roots, source: 'plugged-in' });
}

function selfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

export function certificates(text: string, path: string): X509Certificate[] {
  const blocks = pemBlocks(text, 'CERTIFICATE');
  if (blocks.length === 0) throw new Error(`${path}: no PEM certificate found`);
  return blocks.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch (err) {
      throw new Error(`${path}: certificate ${i + 1} cannot be read: ${(err as Error).message}`);
    }
  });
}

export function privateKey(text: string, path: string): KeyObject {
  const match = /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]*?-----END (?:EC |RSA )?PRIVATE KEY-----/.exec(text);
  if (!match) throw new Error(`${path}: no PEM private key found`);
  try {
    return createPrivateKey(match[0]);
  } catch (err) {
    throw new Error(`${path}: the private key cannot be read: ${(err as Error).message}`);
  }
}
