/**
 * Upgrade requests (WebSocket): routed like any request, then the request head is written to a
 * raw upstream connection and bytes flow both ways untouched, the 101 included, until either
 * side closes. Envoy's upgrade_configs for `websocket`, which Istio enables everywhere.
 */
import type { Duplex } from 'node:stream';
import { rewritePath, rewriteAuthority } from '../stages/rewrite.js';
import { endpointAddress } from '../upstream-port.js';
import { NoRouteError } from '../errors.js';
import type { Exchange } from './exchange.js';

export async function tunnelStep(ex: Exchange): Promise<void> {
  const route = ex.route;
  const down = ex.upgrade;
  if (!route || route.action.kind !== 'forward' || !down || !ex.upstreamHeaders) throw new NoRouteError();
  const action = route.action;
  const path = action.rewrite ? rewritePath(action.rewrite, route.match, ex.path) : ex.path;
  const headers = ex.upstreamHeaders;
  headers.host = action.rewrite ? rewriteAuthority(action.rewrite, ex.authority) : ex.authority;
  ex.upstreamStartedAt = performance.now();
  const { socket: up, endpoint } = await ex.services.upstreams.connect(ex.cluster, {});
  ex.upstreamHost = endpointAddress(endpoint);
  ex.attempts = 1;
  ex.responded = true;
  ex.details = 'via_upstream';
  let head = `${ex.method} ${path}${ex.query} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${String(v)}\r\n`;
  }
  up.write(`${head}\r\n`);
  if (down.head.length > 0) up.write(down.head);
  up.once('data', (chunk: Buffer) => {
    ex.upstreamServiceTimeMs = performance.now() - ex.upstreamStartedAt;
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.subarray(0, 16).toString('latin1'));
    ex.status = m ? Number(m[1]) : 0;
  });
  await splice(down.socket, up);
}

/** Pipes two sockets into each other; resolves when both are closed, whoever closed first. */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let open = 2;
    const closed = () => {
      if (--open === 0) resolve();
    };
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.on('error', () => to.destroy());
      from.once('close', () => {
        to.destroy();
        closed();
      });
      from.pipe(to);
    }
  });
}
