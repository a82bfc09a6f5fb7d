/**
 * One HTTP request from the server's event to the end of its response: find the listener and
 * filter chain, build the exchange, run the chain, turn any failure into a reply (rescue.ts),
 * then count it and publish the request event.
 */
import type { Duplex } from 'node:stream';
import type { FilterChain, HttpConnectionManager, Listener } from '../../proxy-config/index.js';
import type { ConfigSnapshot } from '../snapshot.js';
import type { ProxyServices } from '../services.js';
import { resolveChain, type ConnectionContext } from '../listeners/connection.js';
import { OPAQUE_CHAIN, chainPlan, runChain, type Step } from '../chain.js';
import { rescue } from '../rescue.js';
import { BadRequestError, NoFilterChainError, ProxyError } from '../errors.js';
import { requestChannel, type RequestEvent } from '../events.js';
import { Exchange, type DownstreamRequest, type DownstreamResponse } from './exchange.js';
import { Http1Response } from './h1/response.js';
import { sendLocalReply } from './respond.js';
import { parseTarget } from './target.js';
import { downstreamPeer } from './peer-exchange.js';
import { requestTrace } from '../tracing/request.js';

const UNRESOLVED_LISTENER: Listener = { name: '', direction: 'outbound', address: '', port: 0, filterChains: [] };
const UNRESOLVED_HCM: HttpConnectionManager = { routeConfig: '', filters: [], statPrefix: '' };
const UNRESOLVED_CHAIN: FilterChain = { name: '', match: {}, protocol: 'http', http: UNRESOLVED_HCM };

export interface HandlerContext {
  services: ProxyServices;
  current(): ConfigSnapshot | undefined;
}

export function handleRequest(hc: HandlerContext, conn: ConnectionContext, req: DownstreamRequest, res: DownstreamResponse | null, upgrade: { socket: Duplex; head: Buffer } | null): void {
  const snapshot = hc.current();
  if (!snapshot) {
    (res ?? upgrade?.socket)?.destroy();
    return;
  }
  const target = parseTarget(req, conn);
  const resolved = target.error === undefined ? resolveChain(snapshot, conn, target.port) : undefined;
  const chain = resolved?.chain ?? UNRESOLVED_CHAIN;
  const ex = new Exchange({
    req,
    res,
    upgrade,
    conn,
    services: hc.services,
    snapshot,
    listener: resolved?.listener ?? UNRESOLVED_LISTENER,
    filterChain: chain,
    hcm: chain.http ?? UNRESOLVED_HCM,
    method: req.method ?? 'GET',
    authority: target.authority,
    port: target.port,
    rawPath: target.path,
  });
  conn.inFlight++;
  const stats = hc.services.stats;
  stats.inc('downstream_rq_total');
  stats.gauge('downstream_rq_active', 1);
  const socket = req.socket;
  const readAtStart = ex.http2 ? 0 : socket.bytesRead;
  const writtenAtStart = ex.http2 ? 0 : socket.bytesWritten;
  if (!ex.http2 && res) {
    conn.protocolError = () => {
      // The body broke the HTTP/1 framing after the headers were routed: Envoy still answers
      // 400 if nothing was sent yet; the upstream request is abandoned either way. A reply the
      // chain is about to make (it runs in microtasks) goes first.
      setImmediate(() => {
        sendLocalReply(ex, rescue(new BadRequestError('http1.codec_error')), { connection: 'close' });
        ex.abort.abort();
      });
    };
  }
  const done = () => {
    conn.protocolError = undefined;
    conn.inFlight--;
    stats.gauge('downstream_rq_active', -1);
    if (!ex.responded || (res && !res.writableFinished && !upgrade)) {
      ex.abort.abort();
      if (!ex.flags.includes('DC')) ex.addFlag('DC');
    }
    record(ex, ex.http2 ? 0 : socket.bytesRead - readAtStart, ex.http2 ? 0 : socket.bytesWritten - writtenAtStart);
  };
  if (res instanceof Http1Response) res.onEnded = done;
  else if (res) res.once('close', done);

  let steps: readonly Step[];
  if (target.error !== undefined) steps = [fail(target.error)];
  else if (!resolved) steps = [fail(new NoFilterChainError())];
  else if (chain.protocol === 'tcp') steps = OPAQUE_CHAIN;
  else {
    const plan = chainPlan(ex.hcm, snapshot.routeConfigs.get(ex.hcm.routeConfig));
    steps = upgrade ? plan.upgrade : plan.http;
  }
  const failed = (err: unknown): void => {
    const reply = rescue(err);
    if (reply.unexpected) hc.services.log.error('request failed unexpectedly', { error: err instanceof Error ? (err.stack ?? err.message) : String(err), path: ex.rawPath });
    const headers: Record<string, string> = err instanceof Error && 'headers' in err && isStringRecord(err.headers) ? { ...err.headers } : {};
    // A request the proxy could not even read ends its connection: what follows cannot be trusted.
    if (target.error !== undefined && !ex.http2) headers.connection = 'close';
    sendLocalReply(ex, reply, headers);
  };
  let run: Promise<void> | undefined;
  try {
    run = runChain(ex, steps)?.catch(failed);
  } catch (err) {
    failed(err);
  }
  if (upgrade) {
    void (run ?? Promise.resolve()).finally(() => {
      upgrade.socket.destroy();
      done();
    });
  }
}

function fail(err: ProxyError): Step {
  return () => {
    throw err;
  };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string');
}

function record(ex: Exchange, bytesReceived: number, bytesSent: number): void {
  const stats = ex.services.stats;
  const status = ex.status;
  stats.inc(status >= 500 ? 'downstream_rq_5xx' : status >= 400 ? 'downstream_rq_4xx' : status >= 300 ? 'downstream_rq_3xx' : status >= 200 ? 'downstream_rq_2xx' : 'downstream_rq_1xx_or_none');
  if (ex.flags !== '') for (const f of ex.flags.split(',')) stats.inc(`response_flags.${f}`);
  if (!requestChannel.hasSubscribers) return;
  const event: RequestEvent = {
    startTime: ex.startTime,
    durationMs: performance.now() - ex.startedAt,
    upstreamServiceTimeMs: ex.upstreamServiceTimeMs,
    listener: ex.listener.name,
    direction: ex.listener.direction,
    statPrefix: ex.hcm.statPrefix,
    protocol: ex.http2 ? 'HTTP/2' : `HTTP/${ex.req.httpVersion}`,
    method: ex.method,
    authority: ex.authority,
    path: ex.rawPath,
    requestId: String(ex.upstreamHeaders?.['x-request-id'] ?? ex.header('x-request-id') ?? ''),
    userAgent: ex.header('user-agent') ?? '',
    forwardedFor: ex.header('x-forwarded-for') ?? '',
    status,
    flags: ex.flags,
    details: ex.details,
    route: ex.route?.name ?? '',
    virtualHost: ex.vhost?.name ?? '',
    cluster: ex.cluster,
    upstreamHost: ex.upstreamHost,
    attempts: ex.attempts,
    bytesReceived,
    bytesSent,
    downstreamRemoteAddress: ex.conn.remoteAddress,
    downstreamLocalAddress: ex.conn.localAddress,
    requestedServerName: ex.conn.serverName ?? '',
    origin: ex.services,
    config: ex.snapshot.config,
    grpc: ex.grpc,
    grpcStatus: ex.grpcStatus,
    downstreamPeer: downstreamPeer(ex),
    upstreamPeer: ex.upstreamPeer,
    peerPrincipal: ex.conn.peerPrincipal,
    upstreamEndpoint: ex.upstreamEndpoint,
    trace: requestTrace(ex),
    requestHeaders: ex.req.headers,
  };
  requestChannel.publish(event);
}

