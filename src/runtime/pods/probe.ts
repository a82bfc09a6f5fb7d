/**
 * Readiness probes as the kubelet runs them: httpGet (2xx/3xx is success), tcpSocket (a connect),
 * exec (exit 0), against the pod's address. With Istio the injector rewrites app probes to go
 * through the sidecar agent to the app; here the runtime probes the app's own address directly,
 * which is the same thing without the detour.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { spawn } from 'node:child_process';
import type { Probe } from '../../resources/kube/container.js';

export interface ProbeTarget {
  /** Where the container listens. */
  address: string;
  /** Container port names -> numbers, for `port: http`. */
  namedPorts: ReadonlyMap<string, number>;
  /** Runs an exec probe's command in the pod's network. */
  wrap(command: string, args: readonly string[]): [string, string[]];
  env: NodeJS.ProcessEnv;
}

export function probeOnce(probe: Probe, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = probe.timeoutSeconds * 1000;
  const port = (p: number | string): number | undefined => (typeof p === 'number' ? p : target.namedPorts.get(p) ?? (/^\d+$/.test(p) ? Number(p) : undefined));
  if (probe.httpGet) {
    const g = probe.httpGet;
    const p = port(g.port);
    if (p === undefined) return Promise.resolve(false);
    const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
    const client = g.scheme === 'HTTPS' ? https : http;
    return new Promise((resolve) => {
      const req = client.get({ host: g.host ?? target.address, port: p, path: g.path, headers, agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }
  if (probe.tcpSocket) {
    const p = port(probe.tcpSocket.port);
    if (p === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const s = net.connect({ host: probe.tcpSocket?.host ?? target.address, port: p, timeout: timeoutMs });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(false));
    });
  }
  if (probe.exec?.command?.[0] !== undefined) {
    const [command, args] = target.wrap(probe.exec.command[0], probe.exec.command.slice(1));
    return new Promise((resolve) => {
      const child = spawn(command, args, { stdio: 'ignore', env: target.env, timeout: timeoutMs });
      child.once('exit', (code) => resolve(code === 0));
      child.once('error', () => resolve(false));
    });
  }
  return Promise.resolve(true); // grpc probes are not run: a running container counts as ready
}
