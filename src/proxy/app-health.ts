/**
 * Istio's probe rewrite, the agent's half: the injector points an app container's HTTP and TCP
 * probes at the sidecar's status port (`/app-health/<container>/readyz`, `livez`, `startupz` on
 * 15020), a port the capture rules never redirect, and the proxy runs the original probe against
 * the app from inside the pod. So probes are not inbound mesh traffic: they are not counted as
 * requests and they pass under PeerAuthentication STRICT. The probers are Istio's
 * ISTIO_KUBE_APP_PROBERS JSON: `{"/app-health/web/readyz": {"httpGet": {"path": "/", "port": 8080}, "timeoutSeconds": 1}}`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface AppProber {
  httpGet?: { path?: string; port: number; scheme?: 'HTTP' | 'HTTPS'; host?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number; host?: string };
  timeoutSeconds?: number;
}
export type AppProbers = Record<string, AppProber>;

/** Parses and checks the probers JSON; the error names the entry and field. */
export function parseAppProbers(text: string): AppProbers {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('app probers: expected an object of /app-health/<container>/<probe> entries');
  const out: AppProbers = {};
  for (const [path, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!path.startsWith('/app-health/')) throw new Error(`app probers: ${JSON.stringify(path)} does not start with /app-health/`);
    const p = value as AppProber;
    const port = p?.httpGet?.port ?? p?.tcpSocket?.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`app probers: ${path}: httpGet.port or tcpSocket.port must be a port number`);
    out[path] = p;
  }
  return out;
}

/**
 * Answers an `/app-health/...` request with the probe's result (the app's own status for HTTP,
 * 200 or 503 for TCP); returns false for other paths. `localAddress`: the probe's source under
 * capture (127.0.0.6, as Istio's agent probes), or the probe to the pod's address would be
 * redirected into the sidecar's own inbound side.
 */
export function handleAppHealth(req: IncomingMessage, res: ServerResponse, probers: AppProbers, appHost: string, localAddress?: string): boolean {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (!path.startsWith('/app-health/')) return false;
  const prober = probers[path];
  if (!prober) {
    res.writeHead(404).end(`no prober for ${path}\n`);
    return true;
  }
  void runProbe(prober, appHost, localAddress).then((status) => res.writeHead(status).end());
  return true;
}

function runProbe(p: AppProber, appHost: string, localAddress: string | undefined): Promise<number> {
  const from = localAddress ? { localAddress } : {};
  const timeout = (p.timeoutSeconds ?? 1) * 1000;
  if (p.httpGet) {
    const g = p.httpGet;
    const client = g.scheme === 'HTTPS' ? https : http;
    const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return new Promise((resolve) => {
      const req = client.get({ ...from, host: g.host ?? appHost, port: g.port, path: g.path ?? '/', headers, agent: false, timeout, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 503);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(503));
    });
  }
  const t = p.tcpSocket;
  if (!t) return Promise.resolve(503);
  return new Promise((resolve) => {
    const s = net.connect({ ...from, host: t.host ?? appHost, port: t.port, timeout });
    const done = (status: number) => {
      s.destroy();
      resolve(status);
    };
    s.once('connect', () => done(200));
    s.once('timeout', () => done(503));
    s.once('error', () => done(503));
  });
}
