/**
 * Gateway (networking.istio.io): every field of istio/api networking/v1alpha3/gateway.proto, the
 * CRD's CEL rules, and Istio's ValidateGateway / validateServer / validateServerPort /
 * validateTLSOptions (pkg/config/validation/validation.go) with Istio's messages.
 */
import type { FieldPath } from '../../lib/field-path.js';
import { defineKind, type ValidationContext } from '../resource.js';
import { z, stringMap, uint32 } from '../schema.js';
import { isIstioDnsLabel, isIpAddress, portProblem, wildcardDomainProblem } from './networking-checks.js';

const strings = z.array(z.string());

export const gatewayPort = z.strictObject({
  number: uint32,
  /** HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, TCP, TLS, ... (case-insensitive). */
  protocol: z.string(),
  name: z.string(),
  /** @deprecated Has no effect on Gateways; Istio rejects a non-zero value. */
  targetPort: uint32.optional(),
});
export type GatewayPort = z.output<typeof gatewayPort>;

const tlsCertificate = z.strictObject({
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
});

const tlsProtocol = z.enum(['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3']);

export const serverTlsSettings = z.strictObject({
  /** On an HTTP server: answer every request with a 301 to https. */
  httpsRedirect: z.boolean().optional(),
  /** Absent: PASSTHROUGH (the enum's zero value). */
  mode: z.enum(['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL']).optional(),
  serverCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  caCrl: z.string().optional(),
  /** A Kubernetes Secret (tls.crt/tls.key, or cert/key; CA from ca.crt or `<name>-cacert`). */
  credentialName: z.string().optional(),
  credentialNames: strings.min(1).max(2).optional(),
  caCertCredentialName: z.string().optional(),
  tlsCertificates: z.array(tlsCertificate).min(1).max(2).optional(),
  subjectAltNames: strings.optional(),
  verifyCertificateSpki: strings.optional(),
  verifyCertificateHash: strings.optional(),
  minProtocolVersion: tlsProtocol.optional(),
  maxProtocolVersion: tlsProtocol.optional(),
  cipherSuites: strings.optional(),
  /** BoolValue, nullable in the CRD. */
  insecureSkipVerify: z.boolean().nullish().transform((v) => v ?? undefined),
}).superRefine((tls, ctx) => {
  // The CRD's x-kubernetes-validations rules.
  if (tls.credentialNames !== undefined && tls.tlsCertificates !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['tlsCertificates'], message: 'only one of credentialNames or tlsCertificates can be set' });
  }
  if (tls.credentialName !== undefined && tls.credentialNames !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['credentialNames'], message: 'only one of credentialName or credentialNames can be set' });
  }
});
export type ServerTLSSettings = z.output<typeof serverTlsSettings>;
export type TLSMode = NonNullable<ServerTLSSettings['mode']>;

export const server = z.strictObject({
  port: gatewayPort,
  /** An IP address or `unix://path` to listen on; absent: all addresses. */
  bind: z.string().optional(),
  /** `[namespace/]dnsName`; the namespace may be `*` (any, the default) or `.` (the Gateway's). */
  hosts: strings,
  tls: serverTlsSettings.optional(),
  defaultEndpoint: z.string().optional(),
  name: z.string().optional(),
});
export type Server = z.output<typeof server>;

export const gatewaySpec = z.strictObject({
  servers: z.array(server).optional(),
  /** Gateway pods to configure, by label, in any namespace; absent: all workloads. */
  selector: stringMap.optional(),
});
export type GatewaySpec = z.output<typeof gatewaySpec>;

const PROTOCOLS = {
  tcp: 'TCP', udp: 'UDP', grpc: 'GRPC', 'grpc-web': 'GRPC-Web', http: 'HTTP', http_proxy: 'HTTP_PROXY', http2: 'HTTP2',
  https: 'HTTPS', tls: 'TLS', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
} as const;
export type GatewayProtocol = (typeof PROTOCOLS)[keyof typeof PROTOCOLS];

/** Istio's protocol.Parse: the canonical protocol, or undefined when Istio does not know it. */
export function gatewayProtocol(text: string): GatewayProtocol | undefined {
  return (PROTOCOLS as Record<string, GatewayProtocol>)[text.toLowerCase()];
}

const HTTP_PROTOCOLS = new Set<GatewayProtocol>(['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-Web']);
export const isHttpProtocol = (p: GatewayProtocol | undefined): boolean => p !== undefined && HTTP_PROTOCOLS.has(p);
export const isTlsProtocol = (p: GatewayProtocol | undefined): boolean => p === 'HTTPS' || p === 'TLS';

/** PASSTHROUGH or AUTO_PASSTHROUGH: TLS is forwarded, not terminated, so no certificates are used. */
export function isPassthrough(tls: ServerTLSSettings | undefined): boolean {
  const mode = tls?.mode ?? 'PASSTHROUGH';
  return tls !== undefined && (mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH');
}

const UNIX_PREFIX = 'unix://';

type Ctx = ValidationContext;

export function validateGateway(spec: GatewaySpec, ctx: Ctx): void {
  const servers = spec.servers ?? [];
  if (servers.length === 0) ctx.error(['servers'], 'gateway must have at least one server');
  servers.forEach((s, i) => validateServer(s, ['servers', i], ctx));

  const portNames = new Set<string>();
  const serverNames = new Set<string>();
  servers.forEach((s, i) => {
    if (portNames.has(s.port.name)) ctx.error(['servers', i, 'port', 'name'], `port names in servers must be unique: duplicate name ${s.port.name}`);
    portNames.add(s.port.name);
    // gateway.proto: "An optional name of the server, when set must be unique across all servers."
    if (s.name) {
      if (serverNames.has(s.name)) ctx.error(['servers', i, 'name'], `server names must be unique: duplicate name ${s.name}`);
      serverNames.add(s.name);
    }
    if (!isHttpProtocol(gatewayProtocol(s.port.protocol)) && s.tls?.httpsRedirect) {
      ctx.warning(['servers', i, 'tls', 'httpsRedirect'], 'tls.httpsRedirect should only be used with http servers');
    }
  });
}

function validateServer(s: Server, path: FieldPath, ctx: Ctx): void {
  if (s.hosts.length === 0) ctx.error([...path, 'hosts'], 'server config must contain at least one host');
  s.hosts.forEach((host, i) => {
    for (const problem of gatewayHostProblems(host)) ctx.error([...path, 'hosts', i], problem);
  });
  const portOk = validateServerPort(s, path, ctx);
  validateBind(s, path, ctx);
  if (s.tls) validateTlsOptions(s.tls, [...path, 'tls'], ctx);

  if (!portOk) return;
  const protocol = gatewayProtocol(s.port.protocol);
  if (isTlsProtocol(protocol) && !s.tls) {
    ctx.error(path, `server must have TLS settings for HTTPS/TLS protocols: port ${s.port.number} (${s.port.protocol}) has no tls block; add tls with mode SIMPLE and a credentialName, or use protocol HTTP`);
  } else if (!isTlsProtocol(protocol) && s.tls) {
    // On a plain HTTP server only httpsRedirect makes sense.
    if (isHttpProtocol(protocol)) {
      if (!isPassthrough(s.tls) || s.tls.caCertificates || s.tls.privateKey || s.tls.serverCertificate) {
        ctx.error([...path, 'tls'], 'server cannot have TLS settings for plain text HTTP ports');
      }
    } else {
      ctx.error([...path, 'tls'], 'server cannot have TLS settings for non HTTPS/TLS ports');
    }
  }
}

/** Istio's validateServerPort; returns false when it found a problem. */
function validateServerPort(s: Server, path: FieldPath, ctx: Ctx): boolean {
  const port = s.port;
  const at = (field: string) => [...path, 'port', field];
  let ok = true;
  const fail = (field: string, message: string) => {
    ctx.error(at(field), message);
    ok = false;
  };
  if (!gatewayProtocol(port.protocol)) {
    fail('protocol', `invalid protocol "${port.protocol}", supported protocols are HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL`);
  }
  if (port.number > 0 || !(s.bind ?? '').startsWith(UNIX_PREFIX)) {
    const problem = portProblem(port.number);
    if (problem) fail('number', problem);
  }
  if ((port.targetPort ?? 0) > 0) fail('targetPort', 'targetPort has no impact on Gateways');
  if (port.name === '') fail('name', 'port name must be set');
  return ok;
}

/** Istio's validateServerBind. */
function validateBind(s: Server, path: FieldPath, ctx: Ctx): void {
  const bind = s.bind ?? '';
  if (bind.startsWith(UNIX_PREFIX)) {
    const addr = bind.slice(UNIX_PREFIX.length);
    if (addr === '') ctx.error([...path, 'bind'], 'unix address must not be empty');
    else if (!addr.startsWith('@') && (!addr.startsWith('/') || addr.endsWith('/'))) ctx.error([...path, 'bind'], `${addr} is not an absolute path to a file`);
    if (s.port.number !== 0) ctx.error([...path, 'port', 'number'], `port number must be 0 for unix domain socket: ${s.port.number}`);
  } else if (bind !== '' && !isIpAddress(bind)) {
    ctx.error([...path, 'bind'], `${bind} is not a valid IP`);
  }
}

/** Istio's ValidateNamespaceSlashWildcardHostname for gateways: `[ns/]host`, ns `*`, `.` or a name. */
export function gatewayHostProblems(host: string): string[] {
  const slash = host.indexOf('/');
  if (slash < 0) return hostnamePartProblems(host);
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  const problems: string[] = [];
  if (ns === '' || name === '') problems.push('config namespace and dnsName in host entry cannot be empty');
  if (ns !== '*' && ns !== '.' && !isIstioDnsLabel(ns)) problems.push(`invalid namespace value "${ns}" in gateway`);
  return [...problems, ...hostnamePartProblems(name)];
}

function hostnamePartProblems(hostname: string): string[] {
  const problems: string[] = [];
  if (hostname !== '*' && !hostname.includes('.')) problems.push('short names (non FQDN) are not allowed');
  const problem = wildcardDomainProblem(hostname);
  // A gateway may also serve a bare IP address.
  if (problem && !isIpAddress(hostname)) problems.push(problem);
  if (hostname.includes('*') && hostname.length !== 1 && !hostname.startsWith('*.')) problems.push(`partial wildcard "${hostname}" not allowed`);
  return problems;
}

// Ciphers a gateway accepts (Istio's security.ValidCipherSuites, from BoringSSL).
const CIPHER_SUITES = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA', 'ECDHE-RSA-AES256-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
]);

/** Istio's IsValidCipherSuite: expressions starting with an operator (`-`, `+`, `!`) are let through. */
function isValidCipherSuite(cs: string): boolean {
  if (cs === '' || cs === 'ALL' || !/^[\p{L}\p{N}]/u.test(cs)) return true;
  return CIPHER_SUITES.has(cs);
}

/** Istio's validateTLSOptions. */
function validateTlsOptions(tls: ServerTLSSettings, path: FieldPath, ctx: Ctx): void {
  const at = (field: string) => [...path, field];
  const mode = tls.mode ?? 'PASSTHROUGH';
  if ((tls.minProtocolVersion === 'TLSV1_0' || tls.minProtocolVersion === 'TLSV1_1') && !tls.cipherSuites?.length) {
    ctx.warning(at('minProtocolVersion'), 'TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.');
  }
  const invalid = new Set<string>();
  const valid = new Set<string>();
  const duplicate = new Set<string>();
  for (const cs of tls.cipherSuites ?? []) {
    if (!isValidCipherSuite(cs)) invalid.add(cs);
    else if (valid.has(cs)) duplicate.add(cs);
    else valid.add(cs);
  }
  if (invalid.size > 0) ctx.warning(at('cipherSuites'), `ignoring invalid cipher suites: [${[...invalid].sort().join(' ')}]`);
  if (duplicate.size > 0) ctx.warning(at('cipherSuites'), `ignoring duplicate cipher suites: [${[...duplicate].sort().join(' ')}]`);

  if (mode === 'ISTIO_MUTUAL') {
    // ISTIO_MUTUAL uses the mesh's own certificates; any other source is a mistake.
    if (tls.serverCertificate) ctx.error(at('serverCertificate'), 'ISTIO_MUTUAL TLS cannot have associated server certificate');
    if (tls.privateKey) ctx.error(at('privateKey'), 'ISTIO_MUTUAL TLS cannot have associated private key');
    if (tls.caCertificates) ctx.error(at('caCertificates'), 'ISTIO_MUTUAL TLS cannot have associated CA bundle');
    if (tls.tlsCertificates?.length) ctx.error(at('tlsCertificates'), 'ISTIO_MUTUAL TLS cannot have associated tlsCertificates');
    if (tls.credentialName) ctx.error(at('credentialName'), 'ISTIO_MUTUAL TLS cannot have associated credentialName');
    if (tls.credentialNames?.length) ctx.error(at('credentialNames'), 'ISTIO_MUTUAL TLS cannot have associated credentialNames');
    return;
  }
  if ((mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') && (tls.caCrl || tls.serverCertificate || tls.privateKey
    || tls.caCertificates || tls.tlsCertificates?.length || tls.credentialName || tls.credentialNames?.length)) {
    ctx.warning(path, `${mode} mode does not use certificates, they will be ignored`);
  }

  const sources = [tls.serverCertificate && tls.privateKey, tls.credentialName, tls.credentialNames?.length, tls.tlsCertificates?.length].filter(Boolean).length;
  if (sources > 1) ctx.error(path, 'only one of credentialName, credentialNames, serverCertificate/privateKey, tlsCertificates should be specified');

  const terminates = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  // With a credential the certificates come from a Secret, fetched by the gateway.
  if (terminates && (tls.credentialName || tls.credentialNames?.length)) return;
  if (terminates) {
    const prefix = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
    if (mode !== 'SIMPLE' && !tls.caCertificates) ctx.error(path, `${prefix} requires a client CA bundle (caCertificates)`);
    const hint = 'set credentialName, or serverCertificate and privateKey';
    if (tls.tlsCertificates?.length) {
      tls.tlsCertificates.forEach((cert, i) => {
        if (!cert.serverCertificate) ctx.error([...path, 'tlsCertificates', i], `${prefix} requires a server certificate`);
        if (!cert.privateKey) ctx.error([...path, 'tlsCertificates', i], `${prefix} requires a private key`);
      });
    } else {
      const missing = [tls.serverCertificate ? '' : 'a server certificate', tls.privateKey ? '' : 'a private key'].filter(Boolean);
      if (missing.length > 0) ctx.error(path, `${prefix} requires ${missing.join(' and ')} (${hint})`);
    }
  }
  if (tls.caCrl) {
    if (tls.credentialName) ctx.error(at('caCrl'), 'CRL is not supported with credentialName. CRL has to be specified in the credential');
    if (mode === 'SIMPLE') ctx.error(at('caCrl'), 'CRL is not supported with SIMPLE TLS');
  }
}

export const gatewayKind = defineKind({
  kind: 'Gateway',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  // Istio: a Gateway's name must be a DNS label (no dots), since VirtualServices refer to `ns/name`.
  nameFormat: 'dns1123-label',
  spec: gatewaySpec,
  emptySpec: {},
  validate: validateGateway,
});
