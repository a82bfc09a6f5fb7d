/**
 * Reading a proxy's PKCS#10 certificate signing request (RFC 2986): its public key, proof that
 * the sender holds the private key (the request's own signature), and the names it asks for. The
 * CA uses only the key; the names are read so a request for another identity can be refused.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { DerError, TAG, children, expect, pemBlocks, read, readOid, type Node } from '../lib/der.js';
import { OID } from './x509.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SIGNATURE_HASH: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null, // Ed25519 hashes internally
};

export class CsrError extends Error {}

export interface CertificateRequest {
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, copied into the certificate. */
  spki: Buffer;
  /** URI SANs the request asks for (SPIFFE IDs). */
  uris: string[];
  /** DNS SANs the request asks for. */
  dnsNames: string[];
}

/** Parses and verifies a PEM CSR; throws CsrError saying what is wrong. */
export function readCsr(pem: string): CertificateRequest {
  const blocks = pemBlocks(pem, 'CERTIFICATE REQUEST');
  if (blocks.length !== 1) throw new CsrError(`expected one PEM "CERTIFICATE REQUEST" block, found ${blocks.length}`);
  try {
    return parse(blocks[0] as Buffer);
  } catch (err) {
    if (err instanceof CsrError) throw err;
    throw new CsrError(`malformed certificate request: ${(err as Error).message}`);
  }
}

function parse(der: Buffer): CertificateRequest {
  const top = read(der);
  if (top.raw.length !== der.length) throw new DerError('trailing bytes after the request');
  const [info, algorithm, signature] = children(expect(top, TAG.SEQUENCE, 'CertificationRequest'));
  const infoParts = children(expect(info, TAG.SEQUENCE, 'CertificationRequestInfo'));
  const spkiNode = expect(infoParts[2], TAG.SEQUENCE, 'subjectPKInfo');
  const algOid = readOid(expect(children(expect(algorithm, TAG.SEQUENCE, 'signatureAlgorithm'))[0], TAG.OID, 'algorithm'));
  if (!(algOid in SIGNATURE_HASH)) throw new CsrError(`unsupported signature algorithm ${algOid}`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spkiNode.raw), format: 'der', type: 'spki' });
  } catch (err) {
    throw new CsrError(`unreadable public key: ${(err as Error).message}`);
  }
  checkKeyStrength(publicKey);
  const sig = expect(signature, TAG.BIT_STRING, 'signature').content.subarray(1);
  if (!verify(SIGNATURE_HASH[algOid] ?? null, (info as Node).raw, publicKey, sig)) {
    throw new CsrError('the request\'s signature does not verify with its public key (no proof of possession)');
  }
  const names = { uris: [] as string[], dnsNames: [] as string[] };
  const attributes = infoParts.find((n) => n.tag === 0xa0);
  for (const attribute of attributes ? children(attributes) : []) {
    const [type, values] = children(attribute);
    if (!type || readOid(type) !== EXTENSION_REQUEST || !values) continue;
    for (const extensions of children(values)) {
      for (const ext of children(extensions)) {
        const parts = children(ext);
        if (!parts[0] || readOid(parts[0]) !== OID.subjectAltName) continue;
        const value = expect(parts[parts.length - 1], TAG.OCTET_STRING, 'extension value');
        for (const name of children(read(value.content))) {
          if (name.tag === 0x86) names.uris.push(name.content.toString('ascii'));
          else if (name.tag === 0x82) names.dnsNames.push(name.content.toString('ascii'));
        }
      }
    }
  }
  return { publicKey, spki: Buffer.from(spkiNode.raw), ...names };
}

/** Istio's agent sends EC P-256 (or RSA 2048+); weaker keys are refused. */
function checkKeyStrength(key: KeyObject): void {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1') return;
    throw new CsrError(`EC curve ${details.namedCurve ?? '(unknown)'} is not accepted: use P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) >= 2048) return;
    throw new CsrError(`RSA key of ${details.modulusLength ?? 0} bits is too short: at least 2048`);
  }
  if (key.asymmetricKeyType === 'ed25519') return;
  throw new CsrError(`key type ${key.asymmetricKeyType ?? '(unknown)'} is not accepted`);
}
