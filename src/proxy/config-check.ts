/**
 * Everything a config must satisfy before the proxy applies it. A config either passes whole or
 * is rejected whole (the proxy keeps its last good one, as Envoy NACKs an xDS update), so the
 * checks collect every problem rather than stopping at the first, each named by its field path.
 */
import type { ProxyConfig, StringMatcher, FilterChain, RouteAction } from '../proxy-config/index.js';
import { formatPath, type FieldPath } from '../lib/field-path.js';
import { checkConfigShape } from './config-schema.js';
import { re2Engine } from './stages/route-match.js';

export type ConfigCheck = { ok: true; config: ProxyConfig; warnings: string[] } | { ok: false; errors: string[] };

export function checkProxyConfig(value: unknown): ConfigCheck {
  const issues = checkConfigShape(value);
  if (issues.length > 0) {
    return { ok: false, errors: issues.slice(0, 50).map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`) };
  }
  // The schema proved the shape; the original object keeps fields the schema does not list.
  const config = value as ProxyConfig;
  const errors: string[] = [];
  const warnings: string[] = [];
  const at = (path: FieldPath, message: string) => errors.push(`${formatPath(path)}: ${message}`);

  const clusters = uniqueNames(config.clusters, ['clusters'], at);
  const routeConfigs = uniqueNames(config.routes, ['routes'], at);
  const secrets = new Set(config.secrets.map((s) => s.name));
  uniqueNames(config.listeners, ['listeners'], at);

  const gatewayPorts = new Map<number, string>();
  config.listeners.forEach((l, i) => {
    if (l.direction !== 'inbound' && (l.port < 1 || l.port > 65535)) at(['listeners', i, 'port'], `port ${l.port} is not in 1..65535`);
    if (l.direction === 'gateway') {
      const other = gatewayPorts.get(l.port);
      if (other !== undefined) at(['listeners', i, 'port'], `port ${l.port} is already served by listener ${other}`);
      gatewayPorts.set(l.port, l.name);
    }
    const chains: [FilterChain, FieldPath][] = l.filterChains.map((c, j) => [c, ['listeners', i, 'filterChains', j]]);
    if (l.defaultChain) chains.push([l.defaultChain, ['listeners', i, 'defaultChain']]);
    for (const [chain, path] of chains) checkChain(chain, path, { clusters, routeConfigs, secrets }, at);
  });

  config.routes.forEach((rc, i) =>
    rc.virtualHosts.forEach((vh, j) => {
      const vhPath: FieldPath = ['routes', i, 'virtualHosts', j];
      vh.cors?.allowOrigins.forEach((m, k) => checkMatcher(m, [...vhPath, 'cors', 'allowOrigins', k], at));
      vh.routes.forEach((r, k) => {
        const path: FieldPath = [...vhPath, 'routes', k];
        if (r.match.path) checkMatcher(r.match.path, [...path, 'match', 'path'], at);
        r.match.headers?.forEach((h, n) => checkMatcher(h.match, [...path, 'match', 'headers', n, 'match'], at));
        r.match.queryParams?.forEach((q, n) => checkMatcher(q.match, [...path, 'match', 'queryParams', n, 'match'], at));
        r.match.claims?.forEach((c, n) => checkMatcher(c.match, [...path, 'match', 'claims', n, 'match'], at));
        r.cors?.allowOrigins.forEach((m, n) => checkMatcher(m, [...path, 'cors', 'allowOrigins', n], at));
        if (r.fault?.abort && r.fault.abort.httpStatus === undefined && r.fault.abort.grpcStatus === undefined) {
          at([...path, 'fault', 'abort'], 'an abort needs httpStatus or grpcStatus');
        }
        checkAction(r.action, [...path, 'action'], clusters, at);
      });
    }),
  );

  config.endpoints.forEach((cla, i) => {
    if (!clusters.has(cla.cluster)) warnings.push(`endpoints[${i}]: cluster ${JSON.stringify(cla.cluster)} does not exist; its endpoints are ignored`);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config, warnings };
}

type At = (path: FieldPath, message: string) => void;

function checkChain(chain: FilterChain, path: FieldPath, known: { clusters: Set<string>; routeConfigs: Set<string>; secrets: Set<string> }, at: At): void {
  if (chain.protocol === 'http') {
    if (!chain.http) at(path, 'an http filter chain needs `http`');
    else if (!known.routeConfigs.has(chain.http.routeConfig)) at([...path, 'http', 'routeConfig'], `route configuration ${JSON.stringify(chain.http.routeConfig)} does not exist`);
  } else if (!chain.tcp) {
    at(path, 'a tcp filter chain needs `tcp`');
  } else {
    chain.tcp.clusters.forEach((c, i) => {
      if (!known.clusters.has(c.cluster)) at([...path, 'tcp', 'clusters', i, 'cluster'], `cluster ${JSON.stringify(c.cluster)} does not exist`);
    });
    checkWeights(chain.tcp.clusters, [...path, 'tcp', 'clusters'], at);
  }
  if (chain.tls) {
    if (!known.secrets.has(chain.tls.certificate)) at([...path, 'tls', 'certificate'], `secret ${JSON.stringify(chain.tls.certificate)} does not exist`);
    const ca = chain.tls.validationContext;
    if (ca !== undefined && !known.secrets.has(ca)) at([...path, 'tls', 'validationContext'], `secret ${JSON.stringify(ca)} does not exist`);
  }
}

function checkAction(action: RouteAction, path: FieldPath, clusters: Set<string>, at: At): void {
  if (action.kind !== 'forward') return;
  action.clusters.forEach((c, i) => {
    if (!clusters.has(c.cluster)) at([...path, 'clusters', i, 'cluster'], `cluster ${JSON.stringify(c.cluster)} does not exist (the compiler emits cluster-not-found for that)`);
  });
  checkWeights(action.clusters, [...path, 'clusters'], at);
  action.mirrors?.forEach((m, i) => {
    if (!clusters.has(m.cluster)) at([...path, 'mirrors', i, 'cluster'], `cluster ${JSON.stringify(m.cluster)} does not exist`);
  });
  if (action.rewrite?.regex) {
    const problem = re2Problem(action.rewrite.regex.pattern);
    if (problem) at([...path, 'rewrite', 'regex', 'pattern'], `invalid RE2 pattern: ${problem}`);
  }
}

function checkWeights(items: { weight: number }[], path: FieldPath, at: At): void {
  if (items.length > 1 && items.reduce((n, c) => n + c.weight, 0) <= 0) at(path, 'weights add up to 0');
}

function checkMatcher(m: StringMatcher, path: FieldPath, at: At): void {
  if (!('regex' in m)) return;
  const problem = re2Problem(m.regex);
  if (problem) at([...path, 'regex'], `invalid RE2 pattern: ${problem}`);
}

function re2Problem(pattern: string): string | undefined {
  try {
    re2Engine().compile(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function uniqueNames(items: { name: string }[], path: FieldPath, at: At): Set<string> {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) at([...path, i, 'name'], `duplicate name ${JSON.stringify(item.name)}`);
    seen.add(item.name);
  });
  return seen;
}
