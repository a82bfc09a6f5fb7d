/**
 * The dashboard over one control plane process: its resources (the config source, Pods
 * included), its push server's proxies plus the other replicas', its config dumps, its service
 * graph and its trace store. Like the trace store, a dashboard that cannot bind is logged and
 * left out: a busy port must not stop the control plane from serving config.
 */
import type { ControlPlane } from '../control-plane/index.js';
import type { ConfigSource } from '../sources/index.js';
import type { TraceServer } from '../telemetry/index.js';
import type { Logger } from '../lib/log.js';
import { DashboardServer } from './server.js';
import { Replicas, replicaUrls } from './replicas.js';

export interface DashboardWiring {
  controlPlane: ControlPlane;
  source: ConfigSource;
  traceServer?: TraceServer;
  bind: string;
  port: number;
  /** This replica's monitoring port; the other replicas are asked on the same port. */
  monitoringPort: number;
  log: Logger;
}

export async function startDashboard(w: DashboardWiring): Promise<{ server: DashboardServer; port: number } | undefined> {
  const cp = w.controlPlane;
  const replicas = new Replicas({ self: cp.replicaId(), peers: () => replicaUrls(w.source.current(), w.monitoringPort) });
  const server = new DashboardServer({
    address: w.bind,
    port: w.port,
    log: w.log,
    data: {
      replica: cp.replicaId(),
      resources: () => w.source.current(),
      proxies: () => {
        const own = cp.proxies();
        const ids = new Set(own.map((p) => p.nodeId));
        return [...own, ...replicas.proxies().filter((p) => !ids.has(p.nodeId))];
      },
      configDump: (id) => cp.configDump(id) ?? replicas.configDump(id),
      graph: (q) => cp.graph.graph(q),
      series: (q) => cp.graph.series(q),
      serviceSeries: (q) => cp.graph.serviceSeries(q),
      graphHistoryMs: cp.graph.history.historyMs,
      ...(w.traceServer ? { traces: w.traceServer.store } : {}),
    },
  });
  try {
    return { server, port: await server.listen() };
  } catch (err) {
    await server.close();
    w.log.warn('dashboard not started', { error: (err as Error).message, hint: '--dashboard-port chooses another port, --dashboard-port none runs none' });
    return undefined;
  }
}
