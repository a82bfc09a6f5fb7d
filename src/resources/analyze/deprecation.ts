/**
 * Istio's deprecation.DeprecationAnalyzer (FieldAnalyzer in pkg/config/analysis/analyzers/
 * deprecation/deprecation.go): deprecated fields still in use (IST0002). Istio checks a
 * VirtualService's fault delay `percent` and a Sidecar's outboundTrafficPolicy.egressProxy; Weft
 * also reports the other deprecated spellings it accepts that istio/api marks
 * `[deprecated = true]` (VirtualService, DestinationRule, and the IstioOperator's meshConfig),
 * plus the fault abort `percent` that the API has since removed (bookinfo's samples still use
 * it). Fields are read from the resource as written (`raw`), since the typed model folds
 * deprecated spellings into their replacements, so each report points at the field in the file.
 * Messages use Istio's wording: "X is deprecated; use Y" and "X ignored".
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { KindName } from '../kinds.js';
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

interface Rule {
  kind: KindName;
  /** Path under the document root; `*` stands for every item of a list. */
  path: string;
  message: string;
  /**
   * Proto3 scalars (and enums) are "set" only when not their zero value, as Istio sees them;
   * messages and wrapper types whenever present.
   */
  scalar?: boolean;
  /** For a deprecated enum value: the value that is deprecated. */
  value?: string;
}

const replaced = (deprecated: string, replacement: string): string => `${deprecated} is deprecated; use ${replacement}`;
const dropped = (deprecated: string): string => `${deprecated} is deprecated`;

const HTTP = 'spec.http.*';
const TRAFFIC_POLICIES = [
  'spec.trafficPolicy', 'spec.trafficPolicy.portLevelSettings.*',
  'spec.subsets.*.trafficPolicy', 'spec.subsets.*.trafficPolicy.portLevelSettings.*',
];
const MESH_CONFIGS = ['spec.meshConfig', 'spec.values.meshConfig'];
const PROVIDER = 'MeshConfig.ExtensionProvider';
const STACKDRIVER = `${PROVIDER}.StackdriverProvider`;

const RULES: readonly Rule[] = [
  // Istio's own checks.
  { kind: 'VirtualService', path: `${HTTP}.fault.delay.percent`, scalar: true, message: replaced('HTTPRoute.fault.delay.percent', 'HTTPRoute.fault.delay.percentage') },
  { kind: 'Sidecar', path: 'spec.outboundTrafficPolicy.egressProxy', message: 'OutboundTrafficPolicy.EgressProxy ignored' },
  // The other deprecated spellings Weft accepts.
  { kind: 'VirtualService', path: `${HTTP}.fault.abort.percent`, scalar: true, message: replaced('HTTPRoute.fault.abort.percent', 'HTTPRoute.fault.abort.percentage') },
  { kind: 'VirtualService', path: `${HTTP}.mirrorPercent`, message: replaced('HTTPRoute.mirror_percent', 'HTTPRoute.mirror_percentage') },
  { kind: 'VirtualService', path: `${HTTP}.mirror_percent`, message: replaced('HTTPRoute.mirror_percent', 'HTTPRoute.mirror_percentage') },
  { kind: 'VirtualService', path: `${HTTP}.corsPolicy.allowOrigin`, message: replaced('CorsPolicy.allow_origin', 'CorsPolicy.allow_origins') },
  ...TRAFFIC_POLICIES.flatMap((at): Rule[] => [
    { kind: 'DestinationRule', path: `${at}.loadBalancer.simple`, value: 'LEAST_CONN', message: replaced('LoadBalancerSettings.LEAST_CONN', 'LoadBalancerSettings.LEAST_REQUEST') },
    { kind: 'DestinationRule', path: `${at}.loadBalancer.consistentHash.minimumRingSize`, scalar: true, message: replaced('LoadBalancerSettings.ConsistentHashLB.minimum_ring_size', 'LoadBalancerSettings.ConsistentHashLB.ring_hash') },
    { kind: 'DestinationRule', path: `${at}.outlierDetection.consecutiveErrors`, scalar: true, message: replaced('OutlierDetection.consecutive_errors', 'OutlierDetection.consecutive_gateway_errors or OutlierDetection.consecutive_5xx_errors') },
  ]),
  ...MESH_CONFIGS.flatMap((at): Rule[] => [
    { kind: 'IstioOperator', path: `${at}.certificates`, message: replaced('MeshConfig.certificates', 'cert-manager or another certificate provisioning solution') },
    { kind: 'IstioOperator', path: `${at}.verifyCertificateAtClient`, message: dropped('MeshConfig.verify_certificate_at_client') },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.lightstep`, message: replaced(`${PROVIDER}.lightstep`, `${PROVIDER}.opentelemetry`) },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.opencensus`, message: replaced(`${PROVIDER}.opencensus`, `${PROVIDER}.opentelemetry`) },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.envoyExtAuthzHttp.includeHeadersInCheck`, message: replaced(`${PROVIDER}.EnvoyExternalAuthorizationHttpProvider.include_headers_in_check`, `${PROVIDER}.EnvoyExternalAuthorizationHttpProvider.include_request_headers_in_check`) },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.stackdriver.debug`, scalar: true, message: dropped(`${STACKDRIVER}.debug`) },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.stackdriver.maxNumberOfAttributes`, message: dropped(`${STACKDRIVER}.max_number_of_attributes`) },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.stackdriver.maxNumberOfAnnotations`, message: dropped(`${STACKDRIVER}.max_number_of_annotations`) },
    { kind: 'IstioOperator', path: `${at}.extensionProviders.*.stackdriver.maxNumberOfMessageEvents`, message: dropped(`${STACKDRIVER}.max_number_of_message_events`) },
    { kind: 'IstioOperator', path: `${at}.defaultConfig.discoveryRefreshDelay`, message: dropped('ProxyConfig.discovery_refresh_delay') },
    { kind: 'IstioOperator', path: `${at}.defaultConfig.zipkinAddress`, scalar: true, message: replaced('ProxyConfig.zipkin_address', 'ProxyConfig.tracing') },
    { kind: 'IstioOperator', path: `${at}.defaultConfig.envoyMetricsServiceAddress`, scalar: true, message: replaced('ProxyConfig.envoy_metrics_service_address', 'ProxyConfig.envoy_metrics_service') },
    { kind: 'IstioOperator', path: `${at}.defaultConfig.availabilityZone`, scalar: true, message: dropped('ProxyConfig.availability_zone') },
    { kind: 'IstioOperator', path: `${at}.defaultConfig.sds`, message: dropped('ProxyConfig.sds') },
  ]),
];

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'deprecated fields still in use (IST0002)',
  analyze(ctx) {
    for (const rule of RULES) {
      for (const resource of ctx.resources.filter((r) => r.kind === rule.kind)) {
        for (const { path, value } of find(resource.raw, rule.path.split('.'), [])) {
          if (!isSet(value, rule)) continue;
          ctx.report(resource, Messages.Deprecated, [rule.message], path);
        }
      }
    }
  },
};

function isSet(value: unknown, rule: Rule): boolean {
  if (value === undefined || value === null) return false;
  if (rule.value !== undefined) return value === rule.value;
  if (rule.scalar) return value !== 0 && value !== '' && value !== false;
  return true;
}

/** Every value at `pattern` under `node`, with its path; `*` walks each list item. */
function find(node: unknown, pattern: readonly string[], at: FieldPath): { path: FieldPath; value: unknown }[] {
  const [head, ...rest] = pattern;
  if (head === undefined) return [{ path: at, value: node }];
  if (head === '*') {
    if (!Array.isArray(node)) return [];
    return node.flatMap((item: unknown, i) => find(item, rest, [...at, i]));
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, head)) return [];
  return find((node as Record<string, unknown>)[head], rest, [...at, head]);
}
