/**
 * Delegate VirtualServices (one level, as Istio): a root route with `delegate` is replaced by the
 * delegate's routes, each match merged with the root's. A delegate match must be a subset of a
 * root match; a combination that conflicts is dropped, and a delegate route left with no match is
 * dropped too (Istio's mergeHTTPRoute / mergeHTTPMatchRequests). Fields the delegate route leaves
 * unset are taken from the root route.
 */
import type { HTTPMatchRequest, HTTPRoute } from '../../resources/istio/virtual-service.js';
import type { StringMatch } from '../../resources/schema.js';

export function mergeDelegateRoute(root: HTTPRoute, leaf: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match ?? [], leaf.match ?? []);
  if (match === undefined) return undefined;
  const name = leaf.name === undefined ? root.name : root.name !== undefined ? `${root.name}-${leaf.name}` : leaf.name;
  const { delegate: _drop, ...rootRest } = root;
  return {
    ...leaf,
    ...(match.length > 0 ? { match } : { match: undefined }),
    ...(name !== undefined ? { name } : {}),
    rewrite: leaf.rewrite ?? rootRest.rewrite,
    timeout: leaf.timeout ?? rootRest.timeout,
    retries: leaf.retries ?? rootRest.retries,
    fault: leaf.fault ?? rootRest.fault,
    mirror: leaf.mirror ?? rootRest.mirror,
    mirrors: leaf.mirrors ?? rootRest.mirrors,
    mirrorPercentage: leaf.mirrorPercentage ?? rootRest.mirrorPercentage,
    corsPolicy: leaf.corsPolicy ?? rootRest.corsPolicy,
    headers: leaf.headers ?? rootRest.headers,
  };
}

/** Every root x leaf pair that does not conflict, with the root's conditions filled in. */
function mergeMatches(root: HTTPMatchRequest[], leaf: HTTPMatchRequest[]): HTTPMatchRequest[] | undefined {
  if (root.length === 0) return leaf;
  if (leaf.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const r of root) {
    for (const l of leaf) {
      if (conflicts(r, l)) continue;
      out.push({
        ...r,
        ...l,
        uri: l.uri ?? r.uri,
        scheme: l.scheme ?? r.scheme,
        method: l.method ?? r.method,
        authority: l.authority ?? r.authority,
        headers: { ...(r.headers ?? {}), ...(l.headers ?? {}) },
        queryParams: { ...(r.queryParams ?? {}), ...(l.queryParams ?? {}) },
        withoutHeaders: { ...(r.withoutHeaders ?? {}), ...(l.withoutHeaders ?? {}) },
        sourceLabels: { ...(r.sourceLabels ?? {}), ...(l.sourceLabels ?? {}) },
        port: l.port ?? r.port,
        sourceNamespace: l.sourceNamespace ?? r.sourceNamespace,
        gateways: l.gateways ?? r.gateways,
        ignoreUriCase: l.ignoreUriCase ?? r.ignoreUriCase,
      });
    }
  }
  return out.length > 0 ? out.map(dropEmpty) : undefined;
}

function conflicts(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  if (root.uri && leaf.uri && !uriWithin(root.uri, leaf.uri)) return true;
  for (const field of ['scheme', 'method', 'authority'] as const) {
    const r = root[field];
    const l = leaf[field];
    if (r && l && !sameMatch(r, l)) return true;
  }
  for (const field of ['headers', 'queryParams', 'withoutHeaders'] as const) {
    for (const [key, value] of Object.entries(root[field] ?? {})) {
      const other = leaf[field]?.[key];
      if (other && !sameMatch(value, other)) return true;
    }
  }
  for (const [key, value] of Object.entries(root.sourceLabels ?? {})) {
    const other = leaf.sourceLabels?.[key];
    if (other !== undefined && other !== value) return true;
  }
  if (root.port && leaf.port && root.port !== leaf.port) return true;
  if (root.sourceNamespace && leaf.sourceNamespace && root.sourceNamespace !== leaf.sourceNamespace) return true;
  return false;
}

/** The leaf's URI match must select a subset of what the root's selects. */
function uriWithin(root: StringMatch, leaf: StringMatch): boolean {
  if (root.prefix !== undefined) {
    if (leaf.prefix !== undefined) return leaf.prefix.startsWith(root.prefix);
    if (leaf.exact !== undefined) return leaf.exact.startsWith(root.prefix);
    return false;
  }
  return sameMatch(root, leaf);
}

function sameMatch(a: StringMatch, b: StringMatch): boolean {
  return a.exact === b.exact && a.prefix === b.prefix && a.regex === b.regex;
}

function dropEmpty(m: HTTPMatchRequest): HTTPMatchRequest {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined) continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0 && k !== 'uri') continue;
    out[k] = v;
  }
  return out as HTTPMatchRequest;
}
