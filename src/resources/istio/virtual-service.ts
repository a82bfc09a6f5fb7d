/**
 * VirtualService (networking.istio.io): the model lives in virtual-service-schema.ts; this file
 * holds the kind and Istio's ValidateVirtualService (validation.go) with its TLS and TCP route
 * checks. HTTP route checks are in virtual-service-http.ts.
 */
import type { FieldPath } from '../../lib/field-path.js';
import { defineKind, type ValidationContext } from '../resource.js';
import { Messages } from '../messages.js';
import { virtualServiceSpec, type L4MatchAttributes, type TCPRoute, type TLSMatchAttributes, type TLSRoute, type VirtualServiceSpec } from './virtual-service-schema.js';
import { validateDestinations, validateHttpRoute } from './virtual-service-http.js';
import { gatewayBoundDomainProblem, hostSubsetOf, hostsOverlap, validateGatewayNames } from './virtual-service-hosts.js';
import { checkExportTo, ipSubnetProblem, isIstioDnsLabel, isIpAddress, portProblem, wildcardDomainProblem } from './networking-checks.js';
import { analyzeUnreachableHttpRules, analyzeUnreachableTcpRules, analyzeUnreachableTlsRules, type UnreachableReport } from './virtual-service-unreachable.js';

export * from './virtual-service-schema.js';

type Ctx = ValidationContext;

const MESH = 'mesh';

/** Istio's isGateway: true unless `mesh` is listed (so also when no gateways are given). */
function notBoundToMesh(vs: VirtualServiceSpec): boolean {
  return !(vs.gateways ?? []).includes(MESH);
}

function hasSniHosts(vs: VirtualServiceSpec): boolean {
  return (vs.tls ?? []).some((t) => t.match.some((m) => m.sniHosts.length > 0));
}

export function validateVirtualService(vs: VirtualServiceSpec, ctx: Ctx): void {
  const hosts = vs.hosts ?? [];
  const delegateVs = hosts.length === 0;
  if (delegateVs) {
    // A VirtualService without hosts can only be a delegate, which has none of these.
    if ((vs.gateways?.length ?? 0) > 0) ctx.error(['gateways'], 'delegate virtual service must have no gateways specified');
    if ((vs.tls?.length ?? 0) > 0) ctx.error(['tls'], 'delegate virtual service must have no tls route specified');
    if ((vs.tcp?.length ?? 0) > 0) ctx.error(['tcp'], 'delegate virtual service must have no tcp route specified');
  }

  let appliesToGateway = false;
  if ((vs.gateways?.length ?? 0) > 0) {
    validateGatewayNames(vs.gateways, ['gateways'], ctx);
    appliesToGateway = notBoundToMesh(vs);
  }
  const appliesToMesh = !appliesToGateway;

  // Istio's webhook rejects JWT claim matches (`@request.auth.claims.*`) in a VirtualService that
  // applies to sidecars, because Istio documents claim routing for gateways only. Weft's proxies
  // match claims wherever a RequestAuthentication validated the token, and the seed routes on a
  // claim without a gateway, so Weft accepts them; an analyzer can check the RequestAuthentication.

  let allHostsValid = true;
  hosts.forEach((host, i) => {
    const problem = appliesToGateway ? gatewayBoundDomainProblem(hasSniHosts(vs), host) : wildcardDomainProblem(host);
    if (problem) {
      if (!isIpAddress(host)) {
        ctx.error(['hosts', i], problem);
        allHostsValid = false;
      }
    } else if (appliesToMesh && host === '*') {
      ctx.error(['hosts', i], 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
      allHostsValid = false;
    }
  });
  // Duplicates include overlapping wildcards: *.foo.com and *.com in one VirtualService.
  if (allHostsValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        const a = hosts[i] as string;
        const b = hosts[j] as string;
        if (hostsOverlap(a, b)) ctx.error(['hosts', j], `duplicate hosts in virtual service: ${a} & ${b}`);
      }
    }
  }

  if (!vs.http?.length && !vs.tcp?.length && !vs.tls?.length) ctx.error([], 'http, tcp or tls must be provided in virtual service');
  (vs.http ?? []).forEach((route, i) => validateHttpRoute(route, delegateVs, ['http', i], ctx));
  (vs.tls ?? []).forEach((route, i) => validateTlsRoute(route, vs, ['tls', i], ctx));
  (vs.tcp ?? []).forEach((route, i) => validateTcpRoute(route, ['tcp', i], ctx));
  checkExportTo(ctx, ['exportTo'], vs.exportTo);

  // Istio's webhook returns these as analysis-aware warnings, which istioctl shows as IST0130/IST0131.
  const report: UnreachableReport = {
    unused: (path, rule, reason) => ctx.report(path, Messages.VirtualServiceUnreachableRule, [rule, reason]),
    ineffective: (path, rule, match, dup) => ctx.report(path, Messages.VirtualServiceIneffectiveMatch, [rule, match, dup]),
  };
  analyzeUnreachableHttpRules(vs.http ?? [], report);
  analyzeUnreachableTcpRules(vs.tcp ?? [], report);
  analyzeUnreachableTlsRules(vs.tls ?? [], report);
}

/** Istio's validateTLSRoute / validateTLSMatch. */
function validateTlsRoute(tls: TLSRoute, vs: VirtualServiceSpec, path: FieldPath, ctx: Ctx): void {
  if (tls.match.length === 0) ctx.error([...path, 'match'], 'TLS route must have at least one match condition');
  tls.match.forEach((m, j) => {
    const at = [...path, 'match', j];
    if (m.sniHosts.length === 0) ctx.error([...at, 'sniHosts'], 'TLS match must have at least one SNI host');
    m.sniHosts.forEach((sni, k) => validateSniHost(sni, vs, [...at, 'sniHosts', k], ctx));
    validateL4Match(m, at, ctx);
  });
  if (!tls.route?.length) ctx.error(path, 'TLS route is required');
  validateDestinations(tls.route, [...path, 'route'], ctx);
}

/** Istio's validateSniHost: a valid name covered by one of the VirtualService's hosts. */
function validateSniHost(sni: string, vs: VirtualServiceSpec, path: FieldPath, ctx: Ctx): void {
  const problem = notBoundToMesh(vs) ? gatewayBoundDomainProblem(true, sni) : wildcardDomainProblem(sni);
  if (problem) {
    if (isIpAddress(sni)) ctx.warning(path, `using an IP address ("${sni}") goes against SNI spec and most clients do not support this`);
    else ctx.error(path, problem);
    return;
  }
  const hosts = vs.hosts ?? [];
  if (hosts.some((h) => hostSubsetOf(sni, h))) return;
  ctx.error(path, `SNI host "${sni}" is not a compatible subset of any of the virtual service hosts: [${hosts.join(', ')}]`);
}

/** Istio's validateTCPRoute. */
function validateTcpRoute(tcp: TCPRoute, path: FieldPath, ctx: Ctx): void {
  (tcp.match ?? []).forEach((m, j) => {
    const at = [...path, 'match', j];
    validateL4Match(m, at, ctx);
    if (m.sourceSubnet) {
      const problem = ipSubnetProblem(m.sourceSubnet);
      if (problem) ctx.error([...at, 'sourceSubnet'], problem);
    }
  });
  if (!tcp.route?.length) ctx.error(path, 'TCP route is required');
  validateDestinations(tcp.route, [...path, 'route'], ctx);
}

/** The checks TLS and TCP matches share (labels are checked by the schema). */
function validateL4Match(m: TLSMatchAttributes | L4MatchAttributes, path: FieldPath, ctx: Ctx): void {
  (m.destinationSubnets ?? []).forEach((subnet, k) => {
    const problem = ipSubnetProblem(subnet);
    if (problem) ctx.error([...path, 'destinationSubnets', k], problem);
  });
  if (m.port) {
    const problem = portProblem(m.port);
    if (problem) ctx.error([...path, 'port'], problem);
  }
  validateGatewayNames(m.gateways, [...path, 'gateways'], ctx);
  // Istio checks sourceNamespace only on HTTP matches; an invalid one can never match either.
  if (m.sourceNamespace && !isIstioDnsLabel(m.sourceNamespace)) {
    ctx.error([...path, 'sourceNamespace'], `sourceNamespace match ${m.sourceNamespace} is invalid`);
  }
}

export const virtualServiceKind = defineKind({
  kind: 'VirtualService',
  group: 'networking.istio.io',
  versions: ['v1alpha3', 'v1beta1', 'v1'],
  namespaced: true,
  spec: virtualServiceSpec,
  emptySpec: {},
  validate: validateVirtualService,
});
