/**
 * The CUSTOM half of the authz step: when a CUSTOM rule matched, ask the provider and apply the
 * answer as Envoy's ext_authz filter does. Allowed: the provider's allowed headers are set on the
 * request (so DENY/ALLOW, routing and the upstream all see them) and its on-allow client headers
 * join the response. Denied: its status, body and headers go back to the client (UAEX). Failed:
 * `statusOnError` (UAEX), or on with `failOpen`.
 */
import type { ExtAuthzService } from '../../proxy-config/index.js';
import { DownstreamGoneError } from '../errors.js';
import type { Exchange } from '../http/exchange.js';
import { hasRequestBody } from '../http/forward.js';
import { readBodyForCheck, type BufferedBody } from './body.js';
import { checkRequest } from './check.js';
import { ExtAuthzBodyTooLargeError, ExtAuthzDeniedError, ExtAuthzFailedError } from './errors.js';

export async function extAuthzCheck(ex: Exchange, service: ExtAuthzService): Promise<void> {
  const stats = ex.services.stats;
  let body: BufferedBody | undefined;
  if (service.includeRequestBody) {
    body = hasRequestBody(ex) ? await readBodyForCheck(ex.req, service.includeRequestBody.maxRequestBytes) : { head: Buffer.alloc(0), partial: false, upstream: Buffer.alloc(0) };
    // Takes precedence over failOpen, as in Envoy.
    if (body.partial && !service.includeRequestBody.allowPartialMessage) throw new ExtAuthzBodyTooLargeError();
  }
  const outcome = await checkRequest(ex.services.upstreams, service, { method: ex.method, path: ex.path + ex.query, authority: ex.authority, headers: ex.req.headers }, body, ex.abort);
  if (ex.abort.aborted) throw new DownstreamGoneError();
  switch (outcome.kind) {
    case 'allowed': {
      stats.inc('ext_authz.ok');
      const headers = ex.req.headers as Record<string, string | string[] | undefined>;
      for (const name in outcome.upstreamHeaders) headers[name] = outcome.upstreamHeaders[name];
      if (Object.keys(outcome.downstreamHeaders).length > 0) ex.responseExtras = { ...ex.responseExtras, ...outcome.downstreamHeaders };
      return;
    }
    case 'denied':
      stats.inc('ext_authz.denied');
      throw new ExtAuthzDeniedError(outcome.status, outcome.body, outcome.headers);
    case 'error':
      stats.inc('ext_authz.error');
      ex.services.log.debug('ext_authz check failed', { provider: service.provider, cluster: service.cluster, reason: outcome.reason });
      if (service.failOpen) {
        stats.inc('ext_authz.failure_mode_allowed');
        return;
      }
      throw new ExtAuthzFailedError(service.statusOnError);
  }
}
