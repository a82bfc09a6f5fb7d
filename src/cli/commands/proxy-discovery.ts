/**
 * `weft proxy --control-plane`: the proxy's identity and credential from files, and the discovery
 * client that feeds pushed configs through the proxy's own `applyConfig`. Kept apart from
 * proxy.ts so a file-configured proxy never loads the client.
 */
import { readFileSync } from 'node:fs';
import type { DiscoveryClient } from '../../distribution/client.js';
import type { ProxyConfig, ProxyNode } from '../../proxy-config/index.js';
import type { Logger, Proxy } from '../../proxy/index.js';

const ROLES: readonly string[] = ['sidecar', 'ingress-gateway', 'egress-gateway'];

export interface DiscoveryFlags {
  controlPlane: string;
  node?: string;
  tokenFile?: string;
  rootCert?: string | undefined;
  controlPlaneSan?: string | undefined;
}

/** `host:port[,host:port...]` (or full http(s):// URLs) -> server URLs; h2c unless https is written or is the default. */
export function parseServers(text: string, scheme: 'http' | 'https' = 'http'): string[] {
  const servers = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servers.length === 0) throw new Error('--control-plane: expected HOST:PORT[,HOST:PORT...]');
  return servers.map((s) => {
    const url = /^https?:\/\//.test(s) ? s : `${scheme}://${s}`;
    const parsed = new URL(url);
    if (!parsed.port) throw new Error(`--control-plane: ${JSON.stringify(s)} has no port`);
    return `${parsed.protocol}//${parsed.host}`;
  });
}

/** Reads a ProxyNode, filling what a hand-written file may leave out with the compiler's defaults. */
export function readNode(path: string): ProxyNode {
  const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${path}: a proxy node must be a JSON object`);
  const v = value as Record<string, unknown>;
  const text = (key: string, fallback?: string): string => {
    const field = v[key] ?? fallback;
    if (typeof field !== 'string' || field === '') throw new Error(`${path}: ${key}: expected a non-empty string`);
    return field;
  };
  const role = text('role');
  if (!ROLES.includes(role)) throw new Error(`${path}: role: expected one of ${ROLES.join(', ')}`);
  const labels = v.labels ?? {};
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((l) => typeof l !== 'string')) {
    throw new Error(`${path}: labels: expected an object of strings`);
  }
  const id = text('id');
  return {
    id,
    role: role as ProxyNode['role'],
    namespace: text('namespace', id.split('.')[1]),
    workload: typeof v.workload === 'string' ? v.workload : id.split('.')[0] ?? id,
    labels: labels as Record<string, string>,
    serviceAccount: typeof v.serviceAccount === 'string' ? v.serviceAccount : 'default',
    ip: typeof v.ip === 'string' ? v.ip : '127.0.0.1',
    revision: typeof v.revision === 'string' ? v.revision : '',
  };
}

/** The control plane is verified against the mesh root only, by the name Istio's proxies expect. */
function controlPlaneTls(rootCert: string, san: string | undefined): { ca: string; servername?: string } {
  let ca: string;
  try {
    ca = readFileSync(rootCert, 'utf8');
  } catch (err) {
    throw new Error(`--root-cert: cannot read ${rootCert}: ${(err as Error).message}`);
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--root-cert: ${rootCert} holds no PEM certificate`);
  return { ca, ...(san !== undefined ? { servername: san } : {}) };
}

/** Starts the client; resolves once the first pushed config is applied, or after `initialFetchMs` without one. */
export async function startDiscovery(proxy: Proxy, flags: DiscoveryFlags, log: Logger, initialFetchMs: number): Promise<DiscoveryClient> {
  if (!flags.node || !flags.tokenFile) throw new Error('--control-plane needs --node FILE.json and --token-file FILE');
  const servers = parseServers(flags.controlPlane, flags.rootCert !== undefined ? 'https' : 'http');
  const node = readNode(flags.node);
  const token = readFileSync(flags.tokenFile, 'utf8').trim();
  const tls = flags.rootCert !== undefined ? controlPlaneTls(flags.rootCert, flags.controlPlaneSan) : undefined;
  const { DiscoveryClient } = await import('../../distribution/client.js');
  const { WorkloadCertificate } = await import('../../proxy/secrets/workload-certificate.js');
  const { withWorkloadSecrets } = await import('../../proxy/secrets/join.js');
  const { caMovedOn, controlPlaneRoots } = await import('../../proxy/secrets/ca-change.js');
  // Pushed configs and certificate rotations are applied through one queue, so a rotation re-applies
  // the config last accepted and never overtakes (or undoes) a push.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = queue.then(job, job);
    queue = next.catch(() => undefined);
    return next;
  };
  let served: ProxyConfig | undefined;
  let presented: 'certificate' | 'token' = 'token';
  let firstApply = true;
  const client: DiscoveryClient = new DiscoveryClient({
    servers,
    node,
    token,
    ...(tls ? { tls } : {}),
    // Istio's mTLS to istiod: a certificate that still has a minute to live; an expired one would
    // be refused, and the token still opens the stream to get a new one.
    clientCertificate: () => {
      const held = certificate.current();
      const usable = held !== undefined && held.notAfter > Date.now() + 60_000;
      presented = usable && tls !== undefined ? 'certificate' : 'token';
      return usable ? { cert: held.certificateChain, key: held.privateKey } : undefined;
    },
    // The port actually bound (0 in flags picks one), so the control plane scrapes the right one.
    ...(proxy.ports().prometheus !== undefined ? { prometheusPort: proxy.ports().prometheus } : {}),
    // The proxy binds new ports before committing, so applying is asynchronous; the client ACKs after.
    apply: (config: ProxyConfig) => serial(async () => {
      // The first config waits briefly for the certificate, so mTLS listeners start with one.
      if (firstApply) await certificate.ready(initialFetchMs);
      firstApply = false;
      const result = await proxy.applyConfig(withWorkloadSecrets(config, certificate.current()));
      if (result.accepted) served = config;
      // The CA changed under this certificate: a new one now, not at half-life; and the control
      // plane is verified against the bundle it sent as well as the mounted root (the client reads tls at each connect).
      const moved = result.accepted ? caMovedOn(config, certificate.current()) : undefined;
      if (moved !== undefined) certificate.renewNow(moved);
      if (tls && flags.rootCert !== undefined) tls.ca = controlPlaneRoots(flags.rootCert, config, tls.ca);
      return result.accepted ? { ok: true as const } : { ok: false as const, error: result.errors.join('; ') };
    }),
    // Quick first retries: a replica that died is usually replaced by another one at once.
    backoff: { initialMs: 250, maxMs: 15_000 },
    keepaliveMs: 10_000,
  });
  const certificate = new WorkloadCertificate({ sign: (csr) => client.requestCertificate(csr), log });
  certificate.on('rotated', (material) => {
    void serial(async () => {
      if (!served) return;
      const result = await proxy.applyConfig(withWorkloadSecrets(served, material));
      if (!result.accepted) log.warn('config with the new workload certificate rejected', { errors: result.errors.join('; ') });
    });
  });
  client.on('connected', (replica) => {
    log.info('connected to the control plane', { replica, credential: presented });
    certificate.start();
    certificate.retryNow();
  });
  client.on('disconnected', (reason, retryInMs) => log.warn('control plane connection lost; serving the last config', { reason, retryInMs, version: client.current()?.version ?? '(none)' }));
  client.on('applied', (version) => log.info('pushed config applied', { version }));
  client.on('rejected', (version, error) => log.warn('pushed config rejected (NACK)', { version, error }));
  const first = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      log.warn('no config from the control plane yet; starting without one', { waitedMs: initialFetchMs });
      resolve();
    }, initialFetchMs);
    client.once('applied', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.start();
  await first;
  return client;
}
