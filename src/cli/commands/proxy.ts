import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDurationMs } from '../../lib/duration.js';
import { parseAppProbers } from '../../proxy/app-health.js';
import { repoPath } from '../../lib/repo.js';
import type { Proxy, Bootstrap, LogLevel } from '../../proxy/index.js';
import type { DiscoveryClient } from '../../distribution/client.js';

// The proxy is loaded only when this command runs, so a sidecar's memory holds no CLI or resource-model code.
type ProxyModule = typeof import('../../proxy/index.js');

export interface ProxyFlags {
  config?: string;
  controlPlane?: string;
  node?: string;
  tokenFile?: string;
  rootCert?: string;
  controlPlaneSan?: string;
  initialFetchTimeout?: string;
  bootstrap?: string;
  role?: string;
  bind?: string;
  adminBind?: string;
  outboundPort?: string;
  inboundPort?: string;
  adminPort?: string;
  healthPort?: string;
  prometheusPort?: string;
  statusPort?: string;
  appMetricsPort?: string;
  appMetricsPath?: string;
  appProbers?: string;
  portMap?: string;
  inboundPortMap?: string;
  interceptionMode?: string;
  drainTimeout?: string;
  headersTimeout?: string;
  logLevel: string;
  watch: boolean;
}

const ROLES = ['sidecar', 'ingress-gateway', 'egress-gateway'] as const;

/**
 * Every flag of `weft proxy`, once: commander registers them for the full CLI (help, errors), and
 * proxy-entry.ts parses the same table for a sidecar's start without loading commander.
 * [flags, description, default?]
 */
export const PROXY_OPTIONS: readonly (readonly [string, string, string?])[] = [
  ['--config <file>', 'proxy config (JSON, as the control plane compiles it); re-read on change and on SIGHUP'],
  ['--control-plane <servers>', 'control plane replicas HOST:PORT[,HOST:PORT...]: configs are pushed, ACKed or NACKed; fails over between them'],
  ['--node <file>', 'with --control-plane: this proxy\'s identity (a ProxyNode JSON: id, role, namespace, labels, ...)'],
  ['--token-file <file>', 'with --control-plane: the token for this node id (weft control-plane token NODE_ID)'],
  ['--root-cert <file>', 'with --control-plane: the mesh root certificate(s) to verify the control plane by (Istio\'s /var/run/secrets/istio/root-cert.pem); servers are then dialled over TLS (https), and once this proxy holds its workload certificate it authenticates with it'],
  ['--control-plane-san <name>', 'with --root-cert: the name the control plane\'s certificate must carry (Istio\'s ISTIOD_SAN, e.g. istiod.istio-system.svc; default: the host dialled)'],
  ['--initial-fetch-timeout <duration>', 'with --control-plane: how long to wait for the first config before reporting ready (default 15s)'],
  ['--bootstrap <file>', 'bootstrap JSON: ports, port maps, bind addresses, timeouts'],
  ['--role <role>', `sidecar, ingress-gateway or egress-gateway (default: the config's node.role)`],
  ['--bind <address>', 'address the listeners and the health port bind (default 0.0.0.0)'],
  ['--admin-bind <address>', 'address the admin port binds (default 127.0.0.1)'],
  ['--outbound-port <port>', 'sidecar outbound capture / HTTP proxy port (default 15001)'],
  ['--inbound-port <port>', 'sidecar inbound capture port (default 15006)'],
  ['--admin-port <port>', 'admin port: /config_dump, /stats, /clusters, /ready (default 15000)'],
  ['--health-port <port>', 'health port: /healthz/ready (default 15021)'],
  ['--prometheus-port <port>', 'the proxy\'s Prometheus metrics at /stats/prometheus (default 15090)'],
  ['--status-port <port>', 'the proxy\'s metrics merged with the app\'s at /stats/prometheus (default 15020)'],
  ['--app-metrics-port <port>', 'where the app serves Prometheus metrics (the pod\'s prometheus.io/port), merged on the status port'],
  ['--app-metrics-path <path>', 'the app\'s metrics path (prometheus.io/path, default /metrics)'],
  ['--app-probers <json>', 'rewritten app probes served on the status port at /app-health/... (Istio\'s ISTIO_KUBE_APP_PROBERS JSON)'],
  ['--port-map <map>', 'listener port -> bound port, e.g. 80=8080,443=8443 (0 picks a free port)'],
  ['--inbound-port-map <map>', 'bound port -> workload port for inbound traffic, e.g. 19080=9080'],
  ['--interception-mode <mode>', 'REDIRECT: iptables captures the pod\'s traffic, served by original destination (needs the native addon); NONE (default): 15001 is an HTTP proxy'],
  ['--drain-timeout <duration>', 'how long SIGTERM waits for in-flight requests (default 5s)'],
  ['--headers-timeout <duration>', 'time allowed for a request\'s headers to arrive (default 10s)'],
  ['--log-level <level>', 'debug, info, warn or error', 'info'],
  ['--no-watch', 'do not watch the config file for changes (SIGHUP still reloads)'],
];

export const PROXY_DESCRIPTION = "run Weft's data plane (the sidecar or gateway proxy) from a control plane or a proxy config file";

export function registerProxy(program: Command): void {
  const command = program.command('proxy').description(PROXY_DESCRIPTION);
  for (const [flags, description, fallback] of PROXY_OPTIONS) command.option(flags, description, fallback);
  command.action(async (flags: ProxyFlags) => {
    process.exitCode = await runProxy(flags);
  });
}

export async function runProxy(flags: ProxyFlags): Promise<number> {
  const mod: ProxyModule = await import('../../proxy/index.js');
  const { ConfigFile, Upstreams, createLogger } = mod;
  let bootstrap: Bootstrap;
  try {
    bootstrap = bootstrapFrom(flags, mod);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  if (bootstrap.interceptionMode === 'REDIRECT') {
    const { originalDestinationProblem } = await import('../../proxy/listeners/original-dst.js');
    const problem = originalDestinationProblem();
    if (problem !== undefined) {
      process.stderr.write(`error: --interception-mode REDIRECT cannot work here: ${problem}\n`);
      return 2;
    }
  }
  const log = createLogger((line) => process.stderr.write(line), (['debug', 'info', 'warn', 'error'].includes(flags.logLevel) ? flags.logLevel : 'info') as LogLevel);
  if (flags.config === undefined && flags.controlPlane === undefined) {
    process.stderr.write('error: give --config FILE, --control-plane HOST:PORT, or both\n');
    return 2;
  }
  let exiting = false;
  let discovery: DiscoveryClient | undefined;
  const proxy: Proxy = new mod.Proxy({
    bootstrap, upstreams: new Upstreams(), log, onQuit: () => process.exit(0), version: weftVersion(),
    ...(flags.controlPlane !== undefined ? { discovery: () => discovery?.status() ?? {} } : {}),
  });
  const file = flags.config !== undefined ? new ConfigFile(resolve(flags.config), (value) => proxy.applyConfig(value), log) : undefined;
  try {
    await proxy.start();
    if (file) {
      const first = await file.reload();
      if (!first.accepted) log.warn('serving nothing until a valid config arrives', { config: file.path });
      if (flags.watch) file.watch();
      process.on('SIGHUP', () => void file.reload());
    }
    if (flags.controlPlane !== undefined) {
      const { startDiscovery } = await import('./proxy-discovery.js');
      const initialFetchMs = flags.initialFetchTimeout !== undefined ? parseDurationMs(flags.initialFetchTimeout) : 15_000;
      discovery = await startDiscovery(proxy, { controlPlane: flags.controlPlane, node: flags.node, tokenFile: flags.tokenFile, rootCert: flags.rootCert, controlPlaneSan: flags.controlPlaneSan }, log, initialFetchMs);
    }
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    // Its listeners would keep the process alive: a proxy that cannot start exits (a bad --root-cert).
    file?.close();
    await proxy.drain(0).catch(() => undefined);
    return 1;
  }
  const stop = (signal: string) => {
    if (exiting) return;
    exiting = true;
    log.info('shutting down', { signal, drainTimeoutMs: bootstrap.drainTimeoutMs });
    file?.close();
    discovery?.stop();
    void proxy.drain().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // One line for supervisors and tests: the ports actually bound (0 in flags means "pick one").
  process.stdout.write(`weft proxy ready ${JSON.stringify({ pid: process.pid, version: proxy.snapshot?.version ?? '', ports: proxy.ports() })}\n`);
  return 0; // the listening sockets keep the process alive until a signal ends it
}

function bootstrapFrom(flags: ProxyFlags, { DEFAULT_BOOTSTRAP, parseBootstrap, parsePortMap }: ProxyModule): Bootstrap {
  let b: Bootstrap = DEFAULT_BOOTSTRAP;
  if (flags.bootstrap) b = parseBootstrap(JSON.parse(readFileSync(flags.bootstrap, 'utf8')) as unknown);
  const port = (text: string | undefined, name: string, fallback: number): number => {
    if (text === undefined) return fallback;
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new Error(`--${name}: ${JSON.stringify(text)} is not a port number`);
    return Number(text);
  };
  if (flags.role !== undefined && !(ROLES as readonly string[]).includes(flags.role)) throw new Error(`--role: expected one of ${ROLES.join(', ')}`);
  return {
    ...b,
    role: (flags.role as Bootstrap['role']) ?? b.role,
    bindAddress: flags.bind ?? b.bindAddress,
    adminAddress: flags.adminBind ?? b.adminAddress,
    ports: {
      outbound: port(flags.outboundPort, 'outbound-port', b.ports.outbound),
      inbound: port(flags.inboundPort, 'inbound-port', b.ports.inbound),
      admin: port(flags.adminPort, 'admin-port', b.ports.admin),
      health: port(flags.healthPort, 'health-port', b.ports.health),
      prometheus: port(flags.prometheusPort, 'prometheus-port', b.ports.prometheus ?? 15090),
      status: port(flags.statusPort, 'status-port', b.ports.status ?? 15020),
    },
    ...(flags.appMetricsPort !== undefined
      ? { appMetrics: { port: port(flags.appMetricsPort, 'app-metrics-port', 0), path: flags.appMetricsPath ?? b.appMetrics?.path ?? '/metrics' } }
      : b.appMetrics ? { appMetrics: { ...b.appMetrics, ...(flags.appMetricsPath !== undefined ? { path: flags.appMetricsPath } : {}) } } : {}),
    portMap: flags.portMap !== undefined ? parsePortMap(flags.portMap) : b.portMap,
    inboundPortMap: flags.inboundPortMap !== undefined ? parsePortMap(flags.inboundPortMap) : b.inboundPortMap,
    interceptionMode: interceptionMode(flags.interceptionMode, b.interceptionMode),
    ...(flags.appProbers !== undefined ? { appProbers: parseAppProbers(flags.appProbers) } : b.appProbers ? { appProbers: b.appProbers } : {}),
    drainTimeoutMs: flags.drainTimeout !== undefined ? parseDurationMs(flags.drainTimeout) : b.drainTimeoutMs,
    headersTimeoutMs: flags.headersTimeout !== undefined ? parseDurationMs(flags.headersTimeout) : b.headersTimeoutMs,
  };
}

function weftVersion(): string | undefined {
  try {
    return (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function interceptionMode(text: string | undefined, fallback: Bootstrap['interceptionMode']): Bootstrap['interceptionMode'] {
  if (text === undefined) return fallback;
  if (text !== 'NONE' && text !== 'REDIRECT') throw new Error(`--interception-mode: expected REDIRECT or NONE (TPROXY is not supported), got ${JSON.stringify(text)}`);
  return text;
}
