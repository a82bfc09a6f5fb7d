/**
 * TrafficPolicy (networking/v1alpha3/destination_rule.proto): connection pool, outlier detection,
 * client TLS, tunnel, PROXY protocol and retry budget, with Istio's validateTrafficPolicy and the
 * checks it calls. ConnectionPoolSettings is also used by Sidecar.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { z, int32, uint32, duration } from '../schema.js';
import { loadBalancerSettings, checkLoadBalancer } from './destination-rule-load-balancer.js';
import { msDuration, fqdnProblem, isIpAddress, portProblem } from './networking-checks.js';

/** An int32 Istio rejects when negative, with its own message. */
const nonNegative = (what: string) => int32.min(0, `${what} must be non-negative`);

export const tcpSettings = z.strictObject({
  maxConnections: nonNegative('max connections').optional(),
  connectTimeout: msDuration().optional(),
  tcpKeepalive: z
    .strictObject({ probes: uint32.optional(), time: msDuration().optional(), interval: msDuration().optional() })
    .optional(),
  maxConnectionDuration: msDuration().optional(),
  // 0s disables the idle timeout, so only non-zero values must reach 1ms.
  idleTimeout: duration({ min: 0 })
    .superRefine((ms, ctx) => {
      if (ms !== 0 && ms < 1) ctx.addIssue({ code: 'custom', message: 'duration must be greater than 1ms' });
      else if (!Number.isInteger(ms)) ctx.addIssue({ code: 'custom', message: 'only durations to ms precision are supported' });
    })
    .optional(),
});

export const httpSettings = z.strictObject({
  http1MaxPendingRequests: nonNegative('http1 max pending requests').optional(),
  http2MaxRequests: nonNegative('http2 max requests').optional(),
  maxRequestsPerConnection: nonNegative('max requests per connection').optional(),
  maxRetries: nonNegative('max retries').optional(),
  idleTimeout: msDuration().optional(),
  h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
  useClientProtocol: z.boolean().optional(),
  maxConcurrentStreams: nonNegative('max concurrent streams').optional(),
  http2KeepAlive: z.strictObject({ interval: msDuration(), timeout: msDuration() }).optional(),
});

export const connectionPoolSettings = z.strictObject({ tcp: tcpSettings.optional(), http: httpSettings.optional() });
export type ConnectionPoolSettings = z.output<typeof connectionPoolSettings>;

export const outlierDetection = z.strictObject({
  /** @deprecated use consecutiveGatewayErrors or consecutive5xxErrors */
  consecutiveErrors: int32.optional(),
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: uint32.optional(),
  consecutiveGatewayErrors: uint32.optional(),
  consecutive5xxErrors: uint32.optional(),
  interval: msDuration().optional(),
  baseEjectionTime: msDuration().optional(),
  maxEjectionPercent: int32.optional(),
  minHealthPercent: int32.optional(),
  outlierDetectionHttpErrorCodes: z.array(z.number().int().min(100).max(599)).optional(),
});
export type OutlierDetection = z.output<typeof outlierDetection>;

export const clientTlsSettings = z.strictObject({
  mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).default('DISABLE'),
  clientCertificate: z.string().optional(),
  privateKey: z.string().optional(),
  caCertificates: z.string().optional(),
  credentialName: z.string().optional(),
  subjectAltNames: z.array(z.string()).optional(),
  sni: z.string().optional(),
  insecureSkipVerify: z.boolean().optional(),
  caCrl: z.string().optional(),
});
export type ClientTlsSettings = z.output<typeof clientTlsSettings>;

export const portSelector = z.strictObject({ number: uint32.optional() });

export const portTrafficPolicy = z.strictObject({
  port: portSelector.optional(),
  loadBalancer: loadBalancerSettings.optional(),
  connectionPool: connectionPoolSettings.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: clientTlsSettings.optional(),
});
export type PortTrafficPolicy = z.output<typeof portTrafficPolicy>;

export const tunnelSettings = z.strictObject({
  protocol: z.string().optional(),
  targetHost: z.string(),
  targetPort: uint32,
});
export type TunnelSettings = z.output<typeof tunnelSettings>;

export const trafficPolicy = z.strictObject({
  loadBalancer: loadBalancerSettings.optional(),
  connectionPool: connectionPoolSettings.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: clientTlsSettings.optional(),
  portLevelSettings: z.array(portTrafficPolicy).max(4096).optional(),
  tunnel: tunnelSettings.optional(),
  proxyProtocol: z.strictObject({ version: z.enum(['V1', 'V2']).default('V1') }).optional(),
  retryBudget: z
    .strictObject({
      percent: z.number().min(0).max(100).optional(),
      minRetryConcurrency: uint32.optional(),
      // 0ms (the default) counts only the requests active right now.
      budgetInterval: duration({ min: 0 }).optional(),
    })
    .optional(),
});
export type TrafficPolicy = z.output<typeof trafficPolicy>;

/** Istio's validateTrafficPolicy, for the policy found at `path`. */
export function checkTrafficPolicy(ctx: ValidationContext, path: FieldPath, policy: TrafficPolicy | undefined): void {
  if (!policy) return;
  const { outlierDetection: od, connectionPool, loadBalancer, tls, portLevelSettings, tunnel, proxyProtocol, retryBudget } = policy;
  if (!od && !connectionPool && !loadBalancer && !tls && !portLevelSettings && !tunnel && !proxyProtocol && !retryBudget) {
    ctx.error(path, 'traffic policy must have at least one field');
    return;
  }
  if (tunnel && proxyProtocol) {
    ctx.error(path, 'tunnel and proxyProtocol must not be set together');
    return;
  }
  checkOutlierDetection(ctx, [...path, 'outlierDetection'], od);
  checkConnectionPool(ctx, [...path, 'connectionPool'], connectionPool);
  checkLoadBalancer(ctx, [...path, 'loadBalancer'], loadBalancer, od !== undefined);
  checkClientTls(ctx, [...path, 'tls'], tls);
  portLevelSettings?.forEach((p, i) => {
    const pp = [...path, 'portLevelSettings', i];
    if (!p.port) ctx.error(pp, 'portTrafficPolicy must have valid port');
    if (!p.outlierDetection && !p.connectionPool && !p.loadBalancer && !p.tls) {
      ctx.error(pp, 'port traffic policy must have at least one field');
      return;
    }
    checkOutlierDetection(ctx, [...pp, 'outlierDetection'], p.outlierDetection);
    checkConnectionPool(ctx, [...pp, 'connectionPool'], p.connectionPool);
    checkLoadBalancer(ctx, [...pp, 'loadBalancer'], p.loadBalancer, p.outlierDetection !== undefined);
    checkClientTls(ctx, [...pp, 'tls'], p.tls);
  });
  if (tunnel) checkTunnel(ctx, [...path, 'tunnel'], tunnel);
}

function checkTunnel(ctx: ValidationContext, path: FieldPath, tunnel: TunnelSettings): void {
  if (tunnel.protocol !== undefined && tunnel.protocol !== '' && tunnel.protocol !== 'CONNECT' && tunnel.protocol !== 'POST') {
    ctx.error([...path, 'protocol'], 'tunnel protocol must be "CONNECT" or "POST"');
  }
  const hostProblem = fqdnProblem(tunnel.targetHost);
  if (hostProblem && !isIpAddress(tunnel.targetHost)) {
    ctx.error([...path, 'targetHost'], `tunnel target host must be valid FQDN or IP address: ${hostProblem}; ${tunnel.targetHost} is not a valid IP`);
  }
  const portErr = portProblem(tunnel.targetPort);
  if (portErr) ctx.error([...path, 'targetPort'], `tunnel target port is invalid: ${portErr}`);
}

/** Istio's validateOutlierDetection (durations are checked by the schema). */
export function checkOutlierDetection(ctx: ValidationContext, path: FieldPath, od: OutlierDetection | undefined): void {
  if (!od) return;
  const legacy = od.consecutiveErrors;
  if (legacy !== undefined && legacy !== 0) {
    ctx.warning([...path, 'consecutiveErrors'], 'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead');
  }
  if (!od.splitExternalLocalOriginErrors && (od.consecutiveLocalOriginFailures ?? 0) > 0) {
    ctx.error([...path, 'consecutiveLocalOriginFailures'], 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false');
  }
  for (const field of ['maxEjectionPercent', 'minHealthPercent'] as const) {
    const v = od[field];
    if (v !== undefined && (v < 0 || v > 100)) ctx.error([...path, field], `percentage ${v} is not in range 0..100`);
  }
}

/** Istio's validateConnectionPool (ranges and durations are checked by the schema). */
export function checkConnectionPool(ctx: ValidationContext, path: FieldPath, pool: ConnectionPoolSettings | undefined): void {
  if (!pool) return;
  if (!pool.http && !pool.tcp) {
    ctx.error(path, 'connection pool must have at least one field');
    return;
  }
  if (pool.http?.h2UpgradePolicy === 'UPGRADE' && pool.http.useClientProtocol) {
    ctx.error([...path, 'http', 'useClientProtocol'], 'use client protocol must not be true when H2UpgradePolicy is UPGRADE');
  }
}

/** Istio's ValidateTLS for client TLS settings. */
export function checkClientTls(ctx: ValidationContext, path: FieldPath, tls: ClientTlsSettings | undefined): void {
  if (!tls) return;
  const { mode, credentialName = '', clientCertificate = '', privateKey = '', caCertificates = '', caCrl = '', subjectAltNames } = tls;
  if (credentialName.startsWith('configmap://')) {
    const problem = configMapCredentialProblem(credentialName, ctx.namespace);
    if (problem) ctx.error([...path, 'credentialName'], problem);
  }
  if (tls.insecureSkipVerify) {
    if (mode === 'SIMPLE' && (caCertificates !== '' || credentialName !== '' || (subjectAltNames?.length ?? 0) > 0)) {
      ctx.error(path, 'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true');
    }
    if (mode === 'MUTUAL' && (caCertificates !== '' || (subjectAltNames?.length ?? 0) > 0)) {
      ctx.error(path, 'cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true');
    }
  }
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && credentialName !== '') {
    if (clientCertificate !== '' || caCertificates !== '' || privateKey !== '' || caCrl !== '') {
      ctx.error(path, 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set');
    }
    return;
  }
  if (mode === 'MUTUAL') {
    if (clientCertificate === '') ctx.error(path, 'client certificate required for mutual tls');
    if (privateKey === '') ctx.error(path, 'private key required for mutual tls');
  }
}

/** `configmap://namespace/name` must name the resource's own namespace (Istio's ValidateTLS). */
function configMapCredentialProblem(name: string, namespace: string): string | undefined {
  const parts = name.slice('configmap://'.length).split('/');
  let problem: string | undefined;
  if (parts.length <= 1) problem = `invalid resource name "${name}". Expected namespace and name`;
  else if (parts[0] === '') problem = `invalid resource name "${name}". Expected namespace`;
  else if (parts[1] === '') problem = `invalid resource name "${name}". Expected name`;
  if (problem) return `invalid configmap:// credentialName: ${problem}`;
  if (parts[0] !== namespace || namespace === '') return `invalid configmap:// credentialName: namespace must match the configuration namespace "${namespace}"`;
  return undefined;
}
