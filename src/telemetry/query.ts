/**
 * Zipkin's v2 query API over the trace store, with Zipkin's parameters, defaults and JSON shapes
 * (zipkin-api zipkin2-api.yaml), which Zipkin's UI and Grafana's Zipkin data source rely on:
 * lists of names, lists of traces (each a list of spans), 404 for an unknown trace.
 */
import type { TraceStore, TraceQuery } from './store.js';

export interface QueryAnswer {
  status: number;
  body: unknown;
}

class BadQuery extends Error {}

/** The answer for a GET under /api/v2/, or undefined when the path is not part of the API. */
export function queryRoute(store: TraceStore, url: URL): QueryAnswer | undefined {
  const p = url.searchParams;
  try {
    switch (url.pathname) {
      case '/api/v2/services':
        return ok(store.services());
      case '/api/v2/spans':
        return ok(store.spanNames(required(p, 'serviceName')));
      case '/api/v2/remoteServices':
        return ok(store.remoteServices(required(p, 'serviceName')));
      case '/api/v2/traces':
        return ok(store.traces(traceQuery(p)));
      case '/api/v2/traceMany': {
        const ids = required(p, 'traceIds').split(',').map((id) => traceId(id.trim()));
        return ok(ids.map((id) => store.trace(id)).filter((t) => t !== undefined));
      }
      case '/api/v2/dependencies': {
        const endTs = integer(p, 'endTs') ?? Date.now();
        return ok(store.dependencies(endTs, integer(p, 'lookback') ?? 86_400_000));
      }
      case '/api/v2/autocompleteKeys':
      case '/api/v2/autocompleteValues':
        return ok([]);
      default:
        break;
    }
    if (url.pathname.startsWith('/api/v2/trace/')) {
      const spans = store.trace(traceId(decodeURIComponent(url.pathname.slice('/api/v2/trace/'.length))));
      return spans ? ok(spans) : { status: 404, body: { error: 'Trace not found' } };
    }
    return undefined;
  } catch (err) {
    if (err instanceof BadQuery) return { status: 400, body: { error: err.message } };
    throw err;
  }
}

function ok(body: unknown): QueryAnswer {
  return { status: 200, body };
}

function required(p: URLSearchParams, name: string): string {
  const v = p.get(name);
  if (v === null || v === '') throw new BadQuery(`${name} is required`);
  return v;
}

function integer(p: URLSearchParams, name: string): number | undefined {
  const v = p.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new BadQuery(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function traceId(id: string): string {
  if (!/^[0-9a-fA-F]{1,32}$/.test(id)) throw new BadQuery(`traceId must be 1 to 32 hex digits, got ${JSON.stringify(id)}`);
  const lower = id.toLowerCase();
  const padded = lower.length <= 16 ? lower.padStart(16, '0') : lower.padStart(32, '0');
  return padded.length === 32 && padded.startsWith('0000000000000000') ? padded.slice(16) : padded;
}

function traceQuery(p: URLSearchParams): TraceQuery {
  const q: TraceQuery = {};
  for (const name of ['serviceName', 'remoteServiceName', 'spanName', 'annotationQuery'] as const) {
    const v = p.get(name);
    if (v !== null && v !== '') q[name] = v;
  }
  for (const name of ['minDuration', 'maxDuration', 'endTs', 'lookback', 'limit'] as const) {
    const v = integer(p, name);
    if (v !== undefined) q[name] = v;
  }
  if (q.limit === 0) throw new BadQuery('limit must be greater than 0');
  return q;
}
