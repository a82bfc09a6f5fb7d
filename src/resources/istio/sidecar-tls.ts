/**
 * ServerTLSSettings (networking/v1alpha3/gateway.proto) as a Sidecar ingress listener uses it, with
 * Istio's validateTLSOptions. Gateway servers take the same message; this copy keeps Sidecar
 * independent of gateway.ts until the two are shared.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { z } from '../schema.js';

const tlsProtocol = z.enum(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3']);

export const serverTlsSettings = z
  .strictObject({
    httpsRedirect: z.boolean().optional(),
    mode: z.enum(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']).default('PASSTHROUGH'),
    serverCertificate: z.string().optional(),
    privateKey: z.string().optional(),
    caCertificates: z.string().optional(),
    caCrl: z.string().optional(),
    credentialName: z.string().optional(),
    credentialNames: z.array(z.string()).min(1).max(2).optional(),
    caCertCredentialName: z.string().optional(),
    tlsCertificates: z
      .array(z.strictObject({ serverCertificate: z.string().optional(), privateKey: z.string().optional(), caCertificates: z.string().optional() }))
      .min(1)
      .max(2)
      .optional(),
    subjectAltNames: z.array(z.string()).optional(),
    verifyCertificateSpki: z.array(z.string()).optional(),
    verifyCertificateHash: z.array(z.string()).optional(),
    minProtocolVersion: tlsProtocol.optional(),
    maxProtocolVersion: tlsProtocol.optional(),
    cipherSuites: z.array(z.string()).optional(),
    insecureSkipVerify: z.boolean().optional(),
  })
  .superRefine((tls, ctx) => {
    // The CRD's CEL rules: one source of server certificates.
    const set = (['credentialName', 'credentialNames', 'tlsCertificates'] as const).filter((f) => tls[f] !== undefined);
    if (set.length > 1) ctx.addIssue({ code: 'custom', path: [set[1] as string], message: `only one of ${set[0]} or ${set[1]} can be set` });
  });
export type ServerTlsSettings = z.output<typeof serverTlsSettings>;

const VALID_CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
]);

/** Istio's IsValidCipherSuite: operator expressions (`-`, `+`, `!`) are let through unparsed. */
function isValidCipherSuite(cs: string): boolean {
  if (cs === '' || cs === 'ALL') return true;
  if (!/^[\p{L}\p{N}]/u.test(cs)) return true;
  return VALID_CIPHER_SUITES.has(cs);
}

/** Istio's validateTLSOptions. */
export function checkServerTls(ctx: ValidationContext, path: FieldPath, tls: ServerTlsSettings): void {
  const { mode, serverCertificate = '', privateKey = '', caCertificates = '', caCrl = '', credentialName = '' } = tls;
  const credentialNames = tls.credentialNames ?? [];
  const tlsCertificates = tls.tlsCertificates ?? [];
  const ciphers = tls.cipherSuites ?? [];
  if ((tls.minProtocolVersion === 'TLSV1_0' || tls.minProtocolVersion === 'TLSV1_1') && ciphers.length === 0) {
    ctx.warning([...path, 'minProtocolVersion'], 'TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.');
  }
  const invalid = new Set<string>();
  const valid = new Set<string>();
  const duplicate = new Set<string>();
  for (const cs of ciphers) {
    if (!isValidCipherSuite(cs)) invalid.add(cs);
    else if (valid.has(cs)) duplicate.add(cs);
    else valid.add(cs);
  }
  if (invalid.size > 0) ctx.warning([...path, 'cipherSuites'], `ignoring invalid cipher suites: [${[...invalid].sort().join(' ')}]`);
  if (duplicate.size > 0) ctx.warning([...path, 'cipherSuites'], `ignoring duplicate cipher suites: [${[...duplicate].sort().join(' ')}]`);

  if (mode === 'ISTIO_MUTUAL') {
    // ISTIO_MUTUAL uses the workload's own Istio certificate, so other sources are mistakes.
    if (serverCertificate !== '') ctx.error([...path, 'serverCertificate'], 'ISTIO_MUTUAL TLS cannot have associated server certificate');
    if (privateKey !== '') ctx.error([...path, 'privateKey'], 'ISTIO_MUTUAL TLS cannot have associated private key');
    if (caCertificates !== '') ctx.error([...path, 'caCertificates'], 'ISTIO_MUTUAL TLS cannot have associated CA bundle');
    if (tlsCertificates.length > 0) ctx.error([...path, 'tlsCertificates'], 'ISTIO_MUTUAL TLS cannot have associated tlsCertificates');
    if (credentialName !== '') ctx.error([...path, 'credentialName'], 'ISTIO_MUTUAL TLS cannot have associated credentialName');
    if (credentialNames.length > 0) ctx.error([...path, 'credentialNames'], 'ISTIO_MUTUAL TLS cannot have associated credentialNames');
    return;
  }
  if ((mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH')
    && (caCrl !== '' || serverCertificate !== '' || privateKey !== '' || caCertificates !== '' || tlsCertificates.length > 0 || credentialName !== '' || credentialNames.length > 0)) {
    ctx.warning(path, `${mode} mode does not use certificates, they will be ignored`);
  }
  const sources = [serverCertificate !== '' && privateKey !== '', credentialName !== '', credentialNames.length > 0, tlsCertificates.length > 0].filter(Boolean).length;
  if (sources > 1) ctx.error(path, 'only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified');

  const terminating = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  // Credentials fetched from a secret need no files.
  if (terminating && (credentialName !== '' || credentialNames.length > 0)) return;
  if (terminating) {
    const prefix = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
    if (mode !== 'SIMPLE' && caCertificates === '') ctx.error(path, `${prefix} requires a client CA bundle`);
    const certs = tlsCertificates.length > 0 ? tlsCertificates : [{ serverCertificate, privateKey }];
    for (const cert of certs) {
      if (!cert.serverCertificate) ctx.error(path, `${prefix} requires a server certificate`);
      if (!cert.privateKey) ctx.error(path, `${prefix} requires a private key`);
    }
  }
  if (caCrl !== '') {
    if (credentialName !== '') ctx.error([...path, 'caCrl'], 'CRL is not supported with credentialName. CRL has to be specified in the credential');
    if (mode === 'SIMPLE') ctx.error([...path, 'caCrl'], 'CRL is not supported with SIMPLE TLS');
  }
}
