/**
 * The comparison rows: the direct path, the three other proxies, and Weft's upstream client alone
 * behind a bare node:http server. Weft's own rows are in weft.ts.
 */
import { fileURLToPath } from 'node:url';
import type { Target } from './measure.js';
import { startNginx } from './nginx.js';
import { waitForOutput, type ProcessGroup } from './processes.js';

const LISTENING = /LISTENING (\d+)/;

export function scriptPath(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** A node script from this folder that prints `LISTENING <port>`; resolves with its port. */
export async function startNodeScript(group: ProcessGroup, name: string, script: string, args: string[] = []) {
  const child = group.start(name, process.execPath, [scriptPath(script), ...args]);
  const port = Number(await waitForOutput(child, LISTENING));
  return { child, port };
}

export const directTarget: Target = {
  name: 'direct',
  path: 'wrk -> upstream',
  hops: 0,
  start: async (_group, upstreamPort) => ({ url: `http://127.0.0.1:${upstreamPort}/`, proxies: [] }),
};

export function nginxTarget(nginx: string | undefined): Target {
  return {
    name: 'nginx',
    path: 'wrk -> nginx (1 worker, keepalive pool) -> upstream',
    hops: 1,
    ...(nginx ? {} : { unavailable: 'nginx not installed: apt-get install -y nginx-light (or nginx)' }),
    start: async (group, upstreamPort) => {
      const n = await startNginx(group, nginx ?? 'nginx', upstreamPort);
      return { url: `http://127.0.0.1:${n.port}/`, proxies: [n.child], note: 'master + worker RSS/CPU', cleanup: n.cleanup };
    },
  };
}

export const httpProxyTarget: Target = {
  name: 'http-proxy',
  path: 'wrk -> node http-proxy (keep-alive agent) -> upstream',
  hops: 1,
  start: async (group, upstreamPort) => {
    const p = await startNodeScript(group, 'http-proxy', 'http-proxy-server.js', [String(upstreamPort)]);
    return { url: `http://127.0.0.1:${p.port}/`, proxies: [p.child] };
  },
};

export const undiciTarget: Target = {
  name: 'undici proxy',
  path: 'wrk -> node:http + undici Pool -> upstream',
  hops: 1,
  start: async (group, upstreamPort) => {
    const p = await startNodeScript(group, 'undici-proxy', 'undici-proxy-server.js', [String(upstreamPort)]);
    return { url: `http://127.0.0.1:${p.port}/`, proxies: [p.child] };
  },
};

export const weftClientTarget: Target = {
  name: 'node:http + weft client',
  path: 'wrk -> node:http + Weft Upstreams (no chain) -> upstream',
  hops: 1,
  start: async (group, upstreamPort) => {
    const p = await startNodeScript(group, 'weft-client-proxy', 'weft-client-proxy-server.js', [String(upstreamPort)]);
    return { url: `http://127.0.0.1:${p.port}/`, proxies: [p.child], note: 'comparison: the HTTP client without the chain' };
  },
};
