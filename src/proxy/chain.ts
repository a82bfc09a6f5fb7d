/**
 * The HTTP request path, one line per step, in order, each with the reason for its place (the
 * order follows Istio's HTTP filter chain: authn, authz, fault, cors, router; see
 * pilot/pkg/networking/core/listener_builder.go). A step returns to go on, throws a typed error
 * that rescue.ts turns into a reply, or replies itself (redirect, direct response, preflight),
 * which ends the chain. Each filter chain runs only the steps its config needs (chainPlan).
 */
import type { HttpConnectionManager, RouteConfiguration } from '../proxy-config/index.js';
import type { Exchange } from './http/exchange.js';
import { normalizePathStep, virtualHostStep, routeStep, faultStep, corsStep, actionStep } from './http/route-steps.js';
import { requestHeadersStep, forwardStep } from './http/forward.js';
import { tunnelStep } from './http/upgrade.js';
import { opaqueDestinationStep } from './http/opaque.js';
import { jwtAuthnStep } from './jwt/step.js';
import { authzStep } from './http/authz-step.js';

export type Step = (ex: Exchange) => void | Promise<void>;

/** Everything before the terminal step, shared by plain requests and Upgrade (WebSocket) requests. */
const ROUTING: readonly Step[] = [
  normalizePathStep, //  first: authz, routing and the upstream must all see the same path (CVE-2021-31920)
  jwtAuthnStep, //       before routing: claim matches in routes read its result
  authzStep, //          after authn (it reads the JWT), before routing: deny before any fault delay or upstream work
  virtualHostStep, //    the Host picks the virtual host; none is 404 NR; Gateway httpsRedirect here
  routeStep, //          first matching route wins; none is 404 NR
  faultStep, //          Envoy's fault filter precedes the router: an aborted request never goes upstream
  corsStep, //           after fault (Istio's order), before the router: preflights never reach the app
  actionStep, //         the router: redirect / direct response / cluster-not-found, or the weighted pick
  requestHeadersStep, // after the pick: per-destination header operations apply on top of the route's
];

/** Every step: the chain of a listener that has every stage. */
export const HTTP_CHAIN: readonly Step[] = [
  ...ROUTING,
  forwardStep, //        terminal: rewrite, mirrors, upstream with timeout and retries, response streamed back
];

export const UPGRADE_CHAIN: readonly Step[] = [
  ...ROUTING,
  tunnelStep, //         terminal: the upgrade request goes up, then bytes flow both ways after the 101
];

/** The steps a filter chain's requests run: only the stages its filters and routes configure. */
export interface ChainPlan {
  http: readonly Step[];
  upgrade: readonly Step[];
}

const NO_ROUTES: RouteConfiguration = { name: '', virtualHosts: [] };
const plans = new WeakMap<HttpConnectionManager, WeakMap<RouteConfiguration, ChainPlan>>();

/**
 * The chain for an HTTP connection manager and the route configuration it names, made once per
 * config (configs are immutable once applied: a new one is new objects) on the first request
 * that needs it. A listener without JWT rules, authorization policies, faults or CORS runs no
 * step for them: Istio's chain has no such filter either.
 */
export function chainPlan(hcm: HttpConnectionManager, routes: RouteConfiguration | undefined): ChainPlan {
  const rc = routes ?? NO_ROUTES;
  let byRoutes = plans.get(hcm);
  if (byRoutes === undefined) plans.set(hcm, (byRoutes = new WeakMap()));
  let plan = byRoutes.get(rc);
  if (plan === undefined) byRoutes.set(rc, (plan = planFor(hcm, rc)));
  return plan;
}

function planFor(hcm: HttpConnectionManager, rc: RouteConfiguration): ChainPlan {
  const filters = Array.isArray(hcm.filters) ? hcm.filters : [];
  const applies = new Map<Step, boolean>([
    [jwtAuthnStep, filters.some((f) => f.kind === 'jwt-authn')],
    [authzStep, filters.some((f) => f.kind === 'authz')],
    [faultStep, rc.virtualHosts.some((vh) => vh.routes.some((r) => r.fault !== undefined))],
    [corsStep, rc.virtualHosts.some((vh) => vh.cors !== undefined || vh.routes.some((r) => r.cors !== undefined))],
  ]);
  const only = (chain: readonly Step[]) => chain.filter((step) => applies.get(step) ?? true);
  return { http: only(HTTP_CHAIN), upgrade: only(UPGRADE_CHAIN) };
}

/**
 * An HTTP request to a port the mesh treats as opaque TCP (an outbound proxy request to a TCP
 * service): Envoy would pass its bytes through, so it is forwarded as is, with no routing.
 */
export const OPAQUE_CHAIN: readonly Step[] = [
  opaqueDestinationStep, // the TCP proxy's weighted cluster
  requestHeadersStep, //    hop-by-hop headers still go
  forwardStep,
];

/**
 * Runs the steps in order until one replies. Synchronous steps cost no promise: undefined means
 * every step ran synchronously; otherwise the promise of the rest (a step's throw, synchronous
 * or not, is the caller's to catch: it throws, or the promise rejects).
 */
export function runChain(ex: Exchange, chain: readonly Step[], from = 0): Promise<void> | undefined {
  for (let i = from; i < chain.length; i++) {
    const pending = chain[i]?.(ex);
    if (pending !== undefined) {
      // The terminal step's promise is the chain's: no extra turn to wait for it.
      if (i === chain.length - 1) return pending;
      return pending.then(() => (ex.responded ? undefined : runChain(ex, chain, i + 1)));
    }
    if (ex.responded) return undefined;
  }
  return undefined;
}
