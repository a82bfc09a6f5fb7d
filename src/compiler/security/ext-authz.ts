/**
 * The ext_authz service a workload's CUSTOM AuthorizationPolicies call (Istio's
 * pilot/pkg/security/authz/builder/extauthz.go): every CUSTOM policy of the workload must name
 * the same provider, the provider must be an `envoyExtAuthzHttp` in meshConfig.extensionProviders,
 * and its `service` (`[<namespace>/]<hostname>`) must name one service of the registry; the check
 * then goes to `outbound|<port>||<hostname>`. When any of that fails, Istio generates deny rules
 * for the CUSTOM policies instead ("failed to process CUSTOM action, will generate deny configs
 * for the specified rules"); so does Weft, and the reason is returned for the caller to report.
 *
 * `envoyExtAuthzGrpc` is not supported (Weft has no gRPC client in the proxy): such a provider is
 * reported as unsupported and its CUSTOM policies deny what they match, never a silent allow.
 */
import type { ExtAuthzService } from '../../proxy-config/index.js';
import type { AuthzProviderOption } from '../../registry/authz-providers.js';
import type { Snapshot } from '../snapshot.js';
import { outboundClusterName } from '../clusters/names.js';

/** Istio's default ext_authz timeout (10m): a DestinationRule timeout is expected to be shorter. */
const DEFAULT_TIMEOUT_MS = 600_000;
const DEFAULT_STATUS_ON_ERROR = 403;

export type ExtAuthzResolution = { ok: true; service: ExtAuthzService } | { ok: false; reason: string };

/** The service for `providers` (the provider names of a workload's CUSTOM policies, non-empty). */
export function resolveExtAuthz(snapshot: Snapshot, providers: readonly string[]): ExtAuthzResolution {
  const distinct = [...new Set(providers)];
  if (distinct.length !== 1) {
    return { ok: false, reason: `all extension providers must be the same for a specific workload, found multiple different providers: ${distinct.join(', ')}` };
  }
  const name = distinct[0]!;
  const option: AuthzProviderOption | undefined = snapshot.mesh.authzProviders?.[name];
  if (!option) return { ok: false, reason: `extension provider ${name} not found in meshConfig.extensionProviders (as envoyExtAuthzHttp or envoyExtAuthzGrpc)` };
  if (option.kind === 'duplicate') return { ok: false, reason: `extension provider name must be unique, found duplicate: ${name}` };
  if (option.kind === 'grpc') return { ok: false, reason: `extension provider ${name}: envoyExtAuthzGrpc is not supported by Weft; use envoyExtAuthzHttp` };
  const spec = option.spec;
  const port = spec.port;
  if (port === undefined || port < 1) return { ok: false, reason: `extension provider ${name}: port must be in the range [1, 65535], found: ${port ?? 0}` };
  const host = lookupService(snapshot, spec.service ?? '');
  if (!host.ok) return { ok: false, reason: `extension provider ${name}: ${host.reason}` };
  const status = parseStatusOnError(spec.statusOnError);
  if (status === undefined) return { ok: false, reason: `extension provider ${name}: invalid statusOnError ${JSON.stringify(spec.statusOnError)}` };
  const pathPrefix = spec.pathPrefix ?? '';
  if (pathPrefix !== '' && !pathPrefix.startsWith('/')) return { ok: false, reason: `extension provider ${name}: pathPrefix must begin with \`/\`, found: ${JSON.stringify(pathPrefix)}` };
  const body = spec.includeRequestBodyInCheck;
  const service: ExtAuthzService = {
    provider: name,
    cluster: outboundClusterName(port, undefined, host.hostname),
    timeoutMs: spec.timeout ?? DEFAULT_TIMEOUT_MS,
    pathPrefix,
    failOpen: spec.failOpen ?? false,
    statusOnError: status,
    // The deprecated includeHeadersInCheck counts only when the new field is not set (Istio's order).
    includeRequestHeaders: [...(spec.includeRequestHeadersInCheck?.length ? spec.includeRequestHeadersInCheck : spec.includeHeadersInCheck ?? [])],
    includeAdditionalHeaders: Object.entries(spec.includeAdditionalHeadersInCheck ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, value]) => ({ name: n, value })),
    ...(body ? { includeRequestBody: { maxRequestBytes: body.maxRequestBytes ?? 0, allowPartialMessage: body.allowPartialMessage ?? false } } : {}),
    headersToUpstreamOnAllow: [...(spec.headersToUpstreamOnAllow ?? [])],
    headersToDownstreamOnAllow: [...(spec.headersToDownstreamOnAllow ?? [])],
    headersToDownstreamOnDeny: [...(spec.headersToDownstreamOnDeny ?? [])],
  };
  return { ok: true, service };
}

/**
 * Istio's LookupCluster: `<namespace>/<hostname>` names the service of that namespace; a bare
 * hostname must be unique across namespaces.
 */
function lookupService(snapshot: Snapshot, service: string): { ok: true; hostname: string } | { ok: false; reason: string } {
  if (service === '') return { ok: false, reason: 'service must not be empty' };
  const slash = service.indexOf('/');
  const hostname = slash < 0 ? service : service.slice(slash + 1);
  const candidates = snapshot.registry.servicesByHost(hostname);
  if (slash >= 0) {
    const namespace = service.slice(0, slash);
    if (!candidates.some((s) => s.namespace === namespace)) return { ok: false, reason: `could not find service ${hostname} in namespace ${namespace}` };
    return { ok: true, hostname };
  }
  const namespaces = [...new Set(candidates.map((s) => s.namespace))].sort();
  if (namespaces.length === 0) return { ok: false, reason: `could not find service ${service} in Istio service registry` };
  if (namespaces.length > 1) return { ok: false, reason: `found ${service} in multiple namespaces ${namespaces.join(', ')}, specify the namespace explicitly in the format of <Namespace>/<Hostname>` };
  return { ok: true, hostname };
}

/** A three-digit HTTP status (Envoy's StatusCode); empty: 403 Forbidden, Envoy's default. */
function parseStatusOnError(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return DEFAULT_STATUS_ON_ERROR;
  if (!/^\d{3}$/.test(text)) return undefined;
  const code = Number(text);
  return code >= 100 && code <= 599 ? code : undefined;
}
