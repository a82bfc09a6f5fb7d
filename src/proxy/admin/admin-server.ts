/**
 * The admin port (15000, loopback): what `istioctl proxy-config` and operators read from
 * Envoy's admin, in the same places: /config_dump, /stats, /clusters, /ready, /server_info, /memory
 * (as Envoy's, in this process's terms: RSS and V8's heap spaces), and POST /quitquitquit to drain and exit. The health port (15021) answers /healthz/ready for
 * Kubernetes probes and the local runtime's READY column.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import { redactConfig } from './config-dump.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { Stats } from '../stats.js';

export interface AdminView {
  snapshot(): ConfigSnapshot | undefined;
  lastRejection(): { at: string; errors: string[] } | undefined;
  stats: Stats;
  clusters(): unknown;
  /** LIVE once a config is applied, DRAINING after SIGTERM, PRE_INITIALIZING before. */
  state(): 'PRE_INITIALIZING' | 'LIVE' | 'DRAINING';
  ports(): Record<string, number>;
  startedAt: Date;
  quit(): void;
  /** The control plane connection, when config is pushed rather than read from a file. */
  discovery?(): unknown;
  /** Istio's metrics in Prometheus text (also on 15090), when telemetry is on. */
  prometheus?(): string;
}

export function startAdminServer(view: AdminView, address: string, port: number): Promise<http.Server> {
  return listen(http.createServer((req, res) => serveAdmin(view, req, res)), address, port);
}

export function startHealthServer(view: AdminView, address: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz/ready') return send(res, 404, 'text/plain', '');
    const live = view.state() === 'LIVE';
    send(res, live ? 200 : 503, 'text/plain', '');
  });
  return listen(server, address, port);
}

function serveAdmin(view: AdminView, req: IncomingMessage, res: ServerResponse): void {
  const [path = '/', query = ''] = (req.url ?? '/').split('?');
  const params = new URLSearchParams(query);
  switch (path) {
    case '/config_dump': {
      const snap = view.snapshot();
      const body = {
        version: snap?.version ?? '',
        appliedAt: snap?.appliedAt.toISOString() ?? '',
        ports: view.ports(),
        lastRejected: view.lastRejection(),
        discovery: view.discovery?.(),
        config: snap ? redactConfig(snap.config) : undefined,
      };
      return send(res, 200, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
    }
    case '/discovery':
      if (!view.discovery) return send(res, 404, 'text/plain', 'config is not pushed by a control plane (--config only)\n');
      return send(res, 200, 'application/json', `${JSON.stringify(view.discovery(), null, 2)}\n`);
    case '/stats':
      if (params.get('format') === 'json') return send(res, 200, 'application/json', JSON.stringify(view.stats.json()));
      return send(res, 200, 'text/plain', view.stats.text());
    case '/stats/prometheus':
      if (!view.prometheus) return send(res, 404, 'text/plain', 'telemetry is off\n');
      return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', view.prometheus());
    case '/clusters':
      return send(res, 200, 'application/json', `${JSON.stringify(view.clusters(), null, 2)}\n`);
    case '/ready': {
      const state = view.state();
      return send(res, state === 'LIVE' ? 200 : 503, 'text/plain', `${state}\n`);
    }
    case '/server_info':
      return send(res, 200, 'application/json', JSON.stringify({ state: view.state(), version: view.snapshot()?.version ?? '', uptimeSeconds: Math.floor((Date.now() - view.startedAt.getTime()) / 1000), ports: view.ports() }));
    case '/memory':
      return send(res, 200, 'application/json', `${JSON.stringify(memory(), null, 2)}\n`);
    case '/quitquitquit':
      if (req.method !== 'POST') return send(res, 405, 'text/plain', 'use POST\n');
      send(res, 200, 'text/plain', 'OK\n');
      return view.quit();
    case '/':
      return send(res, 200, 'text/plain', ['/config_dump', '/discovery', '/stats', '/stats/prometheus', '/clusters', '/ready', '/server_info', '/memory', '/quitquitquit (POST)'].join('\n') + '\n');
    default:
      return send(res, 404, 'text/plain', 'not found\n');
  }
}

/** Read-only, so the idle footprint of a real sidecar can be split without a debugger: bytes. */
function memory(): { process: NodeJS.MemoryUsage; heapSpaces: Record<string, { used: number; committed: number }> } {
  const heapSpaces: Record<string, { used: number; committed: number }> = {};
  for (const space of getHeapSpaceStatistics()) heapSpaces[space.space_name] = { used: space.space_used_size, committed: space.physical_space_size };
  return { process: process.memoryUsage(), heapSpaces };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: http.Server, address: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
