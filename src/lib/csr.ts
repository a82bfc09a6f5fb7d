/**
 * Building a PKCS#10 certificate signing request (RFC 2986) with node:crypto and lib/der: what
 * a proxy sends the CA after generating its key pair. Kept small on purpose (the proxy must not
 * load an X.509 library): an empty subject, the public key, optionally URI SANs, signed.
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { bits, ctx, nul, octets, oid, seq, set, toPem } from './der.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';

/** A PEM CSR for `key` (EC P-256/P-384, RSA or Ed25519), asking for `uris` as URI SANs. */
export function buildCsr(key: KeyObject, uris: readonly string[] = []): string {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const attributes = uris.length === 0 ? [] : [seq(
    oid(EXTENSION_REQUEST),
    set(seq(seq(oid(SUBJECT_ALT_NAME), octets(seq(...uris.map((u) => ctx(6, Buffer.from(u, 'ascii'), false))))))),
  )];
  const info = seq(Buffer.from([0x02, 0x01, 0x00]), seq(), spki, ctx(0, Buffer.concat(attributes)));
  const { algorithm, hash } = signatureAlgorithm(key);
  return toPem(seq(info, algorithm, bits(sign(hash, info, key))), 'CERTIFICATE REQUEST');
}

function signatureAlgorithm(key: KeyObject): { algorithm: Buffer; hash: string | null } {
  if (key.asymmetricKeyType === 'ec') {
    return key.asymmetricKeyDetails?.namedCurve === 'secp384r1'
      ? { algorithm: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' }
      : { algorithm: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
  }
  if (key.asymmetricKeyType === 'rsa') return { algorithm: seq(oid('1.2.840.113549.1.1.11'), nul()), hash: 'sha256' };
  if (key.asymmetricKeyType === 'ed25519') return { algorithm: seq(oid('1.3.101.112')), hash: null };
  throw new Error(`cannot build a CSR for a ${key.asymmetricKeyType ?? 'unknown'} key`);
}
