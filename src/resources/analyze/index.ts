import type { Diagnostic } from '../../lib/diagnostic.js';
import { compareDiagnostics } from '../../lib/diagnostic.js';
import type { AnyResource } from '../kinds.js';
import { AnalysisContext, DEFAULT_MESH, isIgnoredByAnalysis, type Analyzer, type MeshSettings } from './context.js';
import { destinationHostAnalyzer } from './destination-hosts.js';
import { destinationSubsetAnalyzer } from './destination-subsets.js';
import { virtualServiceGatewayAnalyzer } from './virtual-service-gateways.js';
import { conflictingMeshGatewayHostsAnalyzer } from './conflicting-mesh-gateway-hosts.js';
import { jwtClaimRouteAnalyzer } from './jwt-claim-route.js';
import { routeWeightsAnalyzer } from './route-weights.js';
import { gatewayPortAnalyzer } from './gateway-ports.js';
import { conflictingGatewayAnalyzer } from './conflicting-gateways.js';
import { servicePortNameAnalyzer } from './service-port-names.js';
import { deploymentServiceAnalyzer } from './deployment-services.js';
import { applicationUidAnalyzer } from './application-uid.js';
import { injectionAnalyzer } from './injection.js';
import { sidecarSelectorAnalyzer } from './sidecar-selectors.js';
import { authorizationPolicyAnalyzer } from './authorization-policies.js';
import { destinationRuleCaAnalyzer } from './destination-rule-ca.js';
import { destinationRuleHostAnalyzer } from './destination-rule-hosts.js';
import { serviceEntryAddressesAnalyzer } from './service-entry-addresses.js';
import { serviceEntryProtocolAnalyzer } from './service-entry-protocols.js';
import { telemetryAnalyzer } from './telemetry-selectors.js';
import { deprecationAnalyzer } from './deprecation.js';

/** Every analyzer, in the order they run. Adding one means adding it here. */
export const ANALYZERS: readonly Analyzer[] = [
  destinationHostAnalyzer,
  destinationSubsetAnalyzer,
  virtualServiceGatewayAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  jwtClaimRouteAnalyzer,
  routeWeightsAnalyzer,
  gatewayPortAnalyzer,
  conflictingGatewayAnalyzer,
  servicePortNameAnalyzer,
  deploymentServiceAnalyzer,
  applicationUidAnalyzer,
  injectionAnalyzer,
  sidecarSelectorAnalyzer,
  authorizationPolicyAnalyzer,
  destinationRuleCaAnalyzer,
  destinationRuleHostAnalyzer,
  serviceEntryAddressesAnalyzer,
  serviceEntryProtocolAnalyzer,
  telemetryAnalyzer,
  deprecationAnalyzer,
];

export interface AnalyzeOptions {
  mesh?: Partial<MeshSettings>;
  analyzers?: readonly Analyzer[];
}

/** Runs the cross-resource analyzers over already validated resources. */
export function analyzeResources(resources: readonly AnyResource[], options: AnalyzeOptions = {}): Diagnostic[] {
  const mesh = { ...DEFAULT_MESH, ...meshFromOperators(resources), ...options.mesh };
  const ctx = new AnalysisContext(resources.filter((r) => !isIgnoredByAnalysis(r)), mesh);
  for (const analyzer of options.analyzers ?? ANALYZERS) {
    try {
      analyzer.analyze(ctx);
    } catch (err) {
      // An analyzer bug must not hide the other analyzers' findings: report it as Istio does.
      ctx.diagnostics.push({ code: 'IST0001', level: 'Error', message: `Internal error: analyzer ${analyzer.name} failed: ${(err as Error).message}` });
    }
  }
  return ctx.diagnostics.sort(compareDiagnostics);
}

function meshFromOperators(resources: readonly AnyResource[]): Partial<MeshSettings> {
  for (const r of resources) {
    if (r.kind !== 'IstioOperator') continue;
    const meshConfig = (r.raw.spec as { meshConfig?: { rootNamespace?: unknown; trustDomain?: unknown } } | undefined)?.meshConfig;
    if (typeof meshConfig?.rootNamespace === 'string') return { rootNamespace: meshConfig.rootNamespace };
  }
  return {};
}

export { AnalysisContext, type Analyzer, type MeshSettings };
