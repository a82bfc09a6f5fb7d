/**
 * X.509 certificates as the CA issues them: DER built with lib/der, signed with node:crypto. Only
 * what a mesh CA needs: a self-signed root, and leaf certificates with Istio's extensions (key
 * usage digitalSignature + keyEncipherment, EKU serverAuth + clientAuth, not a CA, one SPIFFE URI
 * SAN marked critical because the subject is empty, as RFC 5280 §4.2.1.6 asks).
 */
import { createHash, randomBytes, sign, type KeyObject, type X509Certificate } from 'node:crypto';
import { TAG, bits, bool, children, ctx, expect, int, nul, octets, oid, read, readOid, seq, set, time, utf8 } from '../lib/der.js';

export const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

/** The signature algorithm a key signs with, and its hash. */
export function signatureAlgorithm(key: KeyObject): { der: Buffer; hash: 'sha256' | 'sha384' } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return { der: seq(oid(OID.ecdsaSha256)), hash: 'sha256' };
    if (curve === 'secp384r1' || curve === 'P-384') return { der: seq(oid(OID.ecdsaSha384)), hash: 'sha384' };
    throw new Error(`unsupported EC curve ${curve ?? '(unknown)'}: the CA signs with P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') return { der: seq(oid(OID.rsaSha256), nul()), hash: 'sha256' };
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType ?? '(unknown)'}: use EC (P-256, P-384) or RSA`);
}

export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

export function basicConstraints(ca: boolean): Buffer {
  return extension(OID.basicConstraints, true, ca ? seq(bool(true)) : seq());
}

export function keyUsage(...bitNumbers: number[]): Buffer {
  const highest = Math.max(...bitNumbers);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bitNumbers) bytes[Math.floor(b / 8)] = (bytes[Math.floor(b / 8)] as number) | (0x80 >> (b % 8));
  const unused = 7 - (highest % 8);
  return extension(OID.keyUsage, true, Buffer.concat([Buffer.from([TAG.BIT_STRING, bytes.length + 1, unused]), bytes]));
}

export function extKeyUsageServerClient(): Buffer {
  return extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth)));
}

/** Critical: workload certificates have an empty subject, so the SAN is their only name. */
export function uriSan(uri: string): Buffer {
  return extension(OID.subjectAltName, true, seq(ctx(6, Buffer.from(uri, 'ascii'), false)));
}

/** A server's names: DNS names and IP addresses (v4 or v6), plus any URIs; critical, the subject being empty. */
export function serverSans(names: { dns: readonly string[]; ips: readonly string[]; uris?: readonly string[] }): Buffer {
  const entries = [
    ...names.dns.map((d) => ctx(2, Buffer.from(d, 'ascii'), false)),
    ...names.ips.map((ip) => ctx(7, ipBytes(ip), false)),
    ...(names.uris ?? []).map((u) => ctx(6, Buffer.from(u, 'ascii'), false)),
  ];
  return extension(OID.subjectAltName, true, seq(...entries));
}

function ipBytes(ip: string): Buffer {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return Buffer.from(v4.slice(1).map(Number));
  if (!ip.includes(':')) throw new Error(`not an IP address: ${ip}`);
  // IPv6: expand '::' to the missing zero groups.
  const [head = '', tail] = ip.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (all.length !== 8) throw new Error(`not an IP address: ${ip}`);
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function subjectKeyId(id: Buffer): Buffer {
  return extension(OID.subjectKeyId, false, octets(id));
}

export function authorityKeyId(id: Buffer): Buffer {
  return extension(OID.authorityKeyId, false, seq(ctx(0, id, false)));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the public key's BIT STRING contents. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = children(read(spkiDer));
  const key = expect(spki[1], TAG.BIT_STRING, 'SubjectPublicKeyInfo key').content.subarray(1);
  return createHash('sha1').update(key).digest();
}

/** A Name with one organization attribute (Istio's root is `O=cluster.local`); an empty Name for none. */
export function organizationName(org: string | undefined): Buffer {
  return org === undefined ? seq() : seq(set(seq(oid(OID.organization), utf8(org))));
}

export interface CertificateFields {
  subject: Buffer;
  issuer: Buffer;
  /** SubjectPublicKeyInfo DER of the certified key. */
  publicKey: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: Buffer[];
  /** The issuer's private key. */
  signingKey: KeyObject;
}

/** Builds and signs a v3 certificate; returns its DER. */
export function buildCertificate(f: CertificateFields): Buffer {
  const alg = signatureAlgorithm(f.signingKey);
  // 16 random bytes with the top bit cleared: positive, unique, at most 20 octets (RFC 5280 §4.1.2.2).
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f | 0x01;
  const tbs = seq(
    ctx(0, int(2)),
    int(serial),
    alg.der,
    f.issuer,
    seq(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.publicKey,
    ctx(3, seq(...f.extensions)),
  );
  const signature = sign(alg.hash, tbs, f.signingKey);
  return seq(tbs, alg.der, bits(signature));
}

/** The parts of an issuer certificate needed to issue under it. */
export interface IssuerInfo {
  subject: Buffer;
  keyId: Buffer;
}

export function issuerInfo(cert: X509Certificate): IssuerInfo {
  const tbs = children(expect(children(read(cert.raw))[0], TAG.SEQUENCE, 'tbsCertificate'));
  const offset = tbs[0]?.tag === 0xa0 ? 1 : 0;
  const subject = expect(tbs[offset + 4], TAG.SEQUENCE, 'certificate subject').raw;
  const spki = expect(tbs[offset + 5], TAG.SEQUENCE, 'certificate public key').raw;
  // Use the issuer's own subject key id when it has one: OpenSSL matches it against our AKI.
  let keyId = keyIdentifier(spki);
  const exts = tbs.find((n) => n.tag === 0xa3);
  if (exts) {
    for (const ext of children(expect(children(exts)[0], TAG.SEQUENCE, 'extensions'))) {
      const parts = children(ext);
      if (parts[0] && readOid(parts[0]) === OID.subjectKeyId) {
        const value = parts[parts.length - 1];
        if (value) keyId = Buffer.from(expect(read(value.content), TAG.OCTET_STRING, 'subjectKeyIdentifier').content);
      }
    }
  }
  return { subject, keyId };
}
