import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { ConfigSource } from '../../sources/index.js';

interface ControlPlaneFlags {
  config: string[];
  kubernetes?: boolean;
  kubeconfig?: string;
  kubeContext?: string;
  stateDir: string;
  port: string;
  tlsPort?: string;
  namespace?: string;
  tlsSan: string[];
  monitoringPort: string;
  replicaId?: string;
  bind: string;
  debounce?: string;
  logLevel: string;
  revision?: string;
  cacerts?: string;
  caDir?: string;
  workloadCertTtl: string;
  caReloadInterval: string;
  selfSignedRootCheckInterval: string;
  selfSignedRootGracePercentile: string;
  rootRotationGrace: string;
  zipkinPort: string;
  otlpPort: string;
  graphScrapeInterval: string;
  dashboardPort: string;
}

export function registerControlPlane(program: Command): void {
  const cmd = program
    .command('control-plane')
    .description('run the control plane (istiod): watch config, compile per proxy, push to connected proxies')
    .option('--config <path>', 'file or directory of Istio and Kubernetes resources (repeatable); watched for changes', collect, [])
    .option('--kubernetes', 'also watch a Kubernetes API server: Istio CRDs, Services, Pods, Namespaces and the istio ConfigMap (meshConfig) in --namespace')
    .option('--kubeconfig <file>', 'with --kubernetes: the kubeconfig (default $KUBECONFIG, in-cluster, then ~/.kube/config)')
    .option('--kube-context <name>', 'with --kubernetes: the kubeconfig context (default its current-context)')
    .option('--state-dir <dir>', 'where the proxy token key lives (created if missing)')
    .option('--port <port>', 'push (xDS) port for proxies, plaintext (Istio\'s 15010); 0 picks a free one', '15010')
    .option('--tls-port <port>', 'push (xDS) port over TLS with a serving certificate from the mesh CA; proxies may authenticate with their workload certificate (Istio\'s 15012); `none` serves none (default 15012, or 0 when --port is 0)')
    .option('--namespace <ns>', 'this control plane\'s namespace: its serving certificate names istiod[-<revision>].<ns>.svc (default $POD_NAMESPACE, else istio-system)')
    .option('--tls-san <name>', 'another DNS name or IP address for the serving certificate (repeatable)', collect, [])
    .option('--monitoring-port <port>', 'monitoring and debug port: /metrics, /ready, /debug/*', '15014')
    .option('--replica-id <id>', 'this replica\'s name in proxy-status (default: istiod-<pid>)')
    .option('--bind <address>', 'address both ports bind', '127.0.0.1')
    .option('--debounce <duration>', 'quiet period before a push (default 100ms)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--revision <revision>', 'this control plane\'s revision: it takes meshConfig from that revision\'s installed IstioOperator (default: the first IstioOperator)')
    .option('--cacerts <dir>', 'plugged-in CA as Istio\'s cacerts: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem (default: a self-signed root kept in --state-dir)')
    .option('--ca-dir <dir>', 'where the self-signed root lives (default: --state-dir); control planes of every revision share one root, as Istio\'s istio-ca-secret')
    .option('--workload-cert-ttl <duration>', 'lifetime of workload certificates; proxies renew at half of it', '24h')
    .option('--ca-reload-interval <duration>', 'how often the CA files (--cacerts, or the self-signed root) are read again; a changed, consistent set is trusted, pushed, then signs', '1s')
    .option('--self-signed-root-check-interval <duration>', 'self-signed CA: how often the root\'s remaining lifetime is checked (Istio\'s CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL); 0 never rotates it', '1h')
    .option('--self-signed-root-grace-percentile <n>', 'self-signed CA: rotate the root when less than this percentage of its lifetime is left (CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE)', '20')
    .option('--root-rotation-grace <duration>', 'self-signed CA: how long a rotated-out root stays in the trust bundle (at most until it expires)', '24h')
    .option('--zipkin-port <port>', 'trace store: Zipkin v2 API (span ingestion and queries); 0 picks one, `none` runs no trace store', '9411')
    .option('--otlp-port <port>', 'trace store: OTLP/HTTP JSON span ingestion (/v1/traces)', '4318')
    .option('--graph-scrape-interval <duration>', 'service graph: how often every connected proxy\'s metrics are scraped (0 never)', '5s')
    .option('--dashboard-port <port>', 'the dashboard (read-only web UI) on --bind; 0 picks one, `none` runs none', '20001')
    .action(async (flags: ControlPlaneFlags) => {
      process.exitCode = await runControlPlane(flags);
    });
  cmd
    .command('ca')
    .description('the mesh certificate authority')
    .command('rotate')
    .description('replace the self-signed root with a new one; the old root stays trusted for --grace, and running control planes pick it up (proxies get new certificates at once)')
    .option('--state-dir <dir>', 'the control plane\'s state directory (where the self-signed root lives; the runtime\'s is $WEFT_HOME/ca)')
    .option('--grace <duration>', 'how long the old root stays in the trust bundle', '24h')
    .action(async (flags: { stateDir?: string; grace: string }) => {
      const stateDir = flags.stateDir ?? (cmd.opts<{ stateDir?: string }>().stateDir);
      if (!stateDir) {
        process.exitCode = usage('--state-dir is required');
        return;
      }
      const { rotateSelfSignedRoot } = await import('../../ca/index.js');
      const { parseDurationMs } = await import('../../lib/duration.js');
      try {
        const rotated = rotateSelfSignedRoot(resolve(stateDir), { graceMs: parseDurationMs(flags.grace) });
        process.stdout.write(`new root ${rotated.current.serialNumber} (valid until ${rotated.current.validTo}); previous root ${rotated.previous.serialNumber} trusted until ${rotated.trustedUntil.toISOString()}\n`);
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
  cmd
    .command('token')
    .description('print the token a proxy with this node id and service account presents (the local runtime mints them the same way)')
    .argument('<node-id>', 'the proxy node id, <pod>.<namespace>, e.g. reviews-v1-0.default')
    .option('--state-dir <dir>', 'the control plane\'s state directory')
    .option('--service-account <name>', 'the pod\'s service account: its certificate identity is spiffe://<trust-domain>/ns/<namespace>/sa/<name>', 'default')
    .action(async (nodeId: string, flags: { stateDir?: string; serviceAccount: string }) => {
      // The parent command declares --state-dir too and commander hands it the flag; look there as well.
      const stateDir = flags.stateDir ?? (cmd.opts<{ stateDir?: string }>().stateDir);
      if (!stateDir) {
        process.exitCode = usage('--state-dir is required');
        return;
      }
      const { loadTokenKey, mintToken } = await import('../../control-plane/index.js');
      try {
        process.stdout.write(`${mintToken(loadTokenKey(resolve(stateDir)), nodeId, flags.serviceAccount)}\n`);
      } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runControlPlane(flags: ControlPlaneFlags): Promise<number> {
  // Loaded here so other commands (the proxy above all) never load the resource model and compiler.
  const cp = await import('../../control-plane/index.js');
  const telemetry = await import('../../telemetry/index.js');
  const { FileSource } = await import('../../sources/index.js');
  const { parseDurationMs } = await import('../../lib/duration.js');
  const level = (['debug', 'info', 'warn', 'error'].includes(flags.logLevel) ? flags.logLevel : 'info') as 'info';
  const log = cp.createLogger((line) => process.stderr.write(line), level);
  if (!flags.kubernetes && (flags.kubeconfig !== undefined || flags.kubeContext !== undefined)) return usage('--kubeconfig and --kube-context need --kubernetes');
  if (flags.config.length === 0 && !flags.kubernetes) return usage('give at least one --config file or directory, or --kubernetes');
  if (!flags.stateDir) return usage('--state-dir is required (it holds the proxy token key)');
  const port = portFlag(flags.port);
  const monitoring = portFlag(flags.monitoringPort);
  if (port === undefined || monitoring === undefined) return usage('--port and --monitoring-port take a port number (0 picks one)');
  // Tests and scripts that ask for free ports with --port 0 get a free TLS port too, not a clash on 15012.
  const tlsPortText = flags.tlsPort ?? (port === 0 ? '0' : '15012');
  const tlsPort = tlsPortText === 'none' ? undefined : portFlag(tlsPortText);
  if (tlsPortText !== 'none' && tlsPort === undefined) return usage('--tls-port takes a port number (0 picks one) or none');
  const namespace = flags.namespace ?? (process.env.POD_NAMESPACE || 'istio-system');
  const dashboardPort = flags.dashboardPort === 'none' ? undefined : portFlag(flags.dashboardPort);
  if (flags.dashboardPort !== 'none' && dashboardPort === undefined) return usage('--dashboard-port takes a port number (0 picks one) or none');
  const traces = flags.zipkinPort === 'none' ? undefined : { zipkin: portFlag(flags.zipkinPort), otlp: portFlag(flags.otlpPort) };
  if (traces && (traces.zipkin === undefined || traces.otlp === undefined)) return usage('--zipkin-port and --otlp-port take a port number (0 picks one); --zipkin-port none runs no trace store');
  let traceServer: InstanceType<typeof telemetry.TraceServer> | undefined;
  let controlPlane: InstanceType<typeof cp.ControlPlane>;
  let monitor: Awaited<ReturnType<typeof cp.startMonitoring>>;
  let pushPort: number;
  let tlsPushPort: number | undefined;
  let dashboard: { server: { close(): Promise<void> }; port: number } | undefined;
  let ca: ReturnType<typeof cp.loadSelfSignedCa>;
  let caWatcher: ReturnType<typeof cp.watchCaFiles>;
  try {
    const tokenKey = cp.loadTokenKey(resolve(flags.stateDir));
    const workloadCertTtlMs = parseDurationMs(flags.workloadCertTtl);
    if (!(workloadCertTtlMs >= 1000 && workloadCertTtlMs <= cp.MAX_WORKLOAD_CERT_TTL_MS)) {
      return usage(`--workload-cert-ttl: ${flags.workloadCertTtl} is outside 1s..2160h (Istio's maximum workload certificate lifetime)`);
    }
    const caFiles = cp.watchCaFiles({
      ...(flags.cacerts !== undefined ? { cacerts: resolve(flags.cacerts) } : { selfSigned: resolve(flags.caDir ?? flags.stateDir) }),
      reloadMs: parseDurationMs(flags.caReloadInterval),
      rootCheckMs: parseDurationMs(flags.selfSignedRootCheckInterval),
      rootGracePercent: Number(flags.selfSignedRootGracePercentile),
      rootRotationGraceMs: parseDurationMs(flags.rootRotationGrace),
      log,
    });
    ca = caFiles.current();
    caWatcher = caFiles;
    const sources: ConfigSource[] = [];
    if (flags.config.length > 0) sources.push(new FileSource({ paths: flags.config.map((p) => resolve(p)) }));
    if (flags.kubernetes) {
      const { KubernetesSource } = await import('../../sources/kubernetes/index.js');
      sources.push(new KubernetesSource({
        ...(flags.kubeconfig !== undefined ? { kubeconfig: resolve(flags.kubeconfig) } : {}),
        ...(flags.kubeContext !== undefined ? { context: flags.kubeContext } : {}),
        namespace,
        ...(flags.revision !== undefined ? { revision: flags.revision } : {}),
        log,
      }));
    }
    // The dashboard reads one resource list: every source's, in the control plane's order.
    const source: ConfigSource = sources.length === 1 && sources[0] ? sources[0] : { name: sources.map((s) => s.name).join('+'), start: () => Promise.resolve(), stop: () => {}, current: () => sources.flatMap((s) => s.current()) };
    if (traces) {
      // Like the proxy's metrics ports: a trace store that cannot bind is logged and left out, not
      // worth refusing to serve config for (two control planes on one host share 9411).
      const server = new telemetry.TraceServer({ address: flags.bind, zipkinPort: traces.zipkin ?? 9411, otlpPort: traces.otlp ?? 4318, log });
      traceServer = await server.start().then(
        () => server,
        async (err: Error) => {
          await server.close();
          log.warn('trace store not started', { error: err.message, hint: '--zipkin-port / --otlp-port choose other ports, --zipkin-port none runs none' });
          return undefined;
        },
      );
    }
    controlPlane = new cp.ControlPlane({
      sources,
      replicaId: flags.replicaId ?? `istiod-${process.pid}`,
      ...(flags.revision !== undefined ? { revision: flags.revision } : {}),
      tokenKey,
      ca,
      workloadCertTtlMs,
      ...(traces ? { defaultZipkinAddress: zipkinAddress(flags.bind, traces.zipkin || traceServer?.ports.zipkin) } : {}),
      log,
      ...(flags.debounce !== undefined ? { debounceMs: parseDurationMs(flags.debounce) } : {}),
      graphScrapeIntervalMs: parseDurationMs(flags.graphScrapeInterval),
    });
    await controlPlane.start();
    caWatcher.on('changed', (next) => void controlPlane.replaceCa(next));
    caWatcher.start();
    pushPort = await controlPlane.push.listen(port, flags.bind);
    if (tlsPort !== undefined) {
      const { servingNames } = await import('../../control-plane/serving-certificate.js');
      const names = servingNames({ namespace, ...(flags.revision !== undefined ? { revision: flags.revision } : {}), bind: flags.bind, extra: flags.tlsSan });
      tlsPushPort = await controlPlane.listenSecure(tlsPort, flags.bind, names);
      log.info('push over TLS', { port: tlsPushPort, names: [...names.dns, ...names.ips].join(',') });
    }
    monitor = await cp.startMonitoring(controlPlane, flags.bind, monitoring);
    if (dashboardPort !== undefined) {
      const { startDashboard } = await import('../../dashboard/index.js');
      dashboard = await startDashboard({ controlPlane, source, ...(traceServer ? { traceServer } : {}), bind: flags.bind, port: dashboardPort, monitoringPort: cp.monitoringPort(monitor), log });
    }
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    await traceServer?.close();
    return 1;
  }
  let exiting = false;
  const stop = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    log.info('shutting down', { signal });
    caWatcher.stop();
    monitor.closeAllConnections();
    monitor.close();
    void traceServer?.close();
    void dashboard?.server.close();
    void controlPlane.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // One line for supervisors and tests, like the proxy's: the ports actually bound.
  log.info('certificate authority ready', { source: ca.source, root: ca.signingCertificate.subject || '(empty subject)' });
  const ready = { pid: process.pid, replica: controlPlane.replicaId(), ready: controlPlane.ready(), ports: { xds: pushPort, ...(tlsPushPort !== undefined ? { xdsTls: tlsPushPort } : {}), monitoring: cp.monitoringPort(monitor), ...(traceServer ? traceServer.ports : {}), ...(dashboard ? { dashboard: dashboard.port } : {}) } };
  process.stdout.write(`weft control-plane ready ${JSON.stringify(ready)}\n`);
  return 0;
}

/**
 * The collector address pushed to proxies: the configured port, not whether this replica bound it,
 * so every replica compiles the same config (port 0, for tests, can only name the bound one).
 */
function zipkinAddress(bind: string, port: number | undefined): string | undefined {
  if (!port) return undefined;
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function portFlag(text: string): number | undefined {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined;
}

function usage(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}
