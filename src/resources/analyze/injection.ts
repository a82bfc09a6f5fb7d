/**
 * Port of Istio's injection.Analyzer (pkg/config/analysis/analyzers/injection/injection.go) for
 * Namespaces: IST0102 when a namespace has no injection label, IST0123 when it has more than one
 * kind of injection label.
 *
 * IST0103 (PodMissingProxy) is about running Pods: Istio reads Pods, not Deployments (its inputs
 * are Namespace, Pod and ConfigMap), and skips pods that opt out with `sidecar.istio.io/inject:
 * "false"`. A Deployment's pod template never has the proxy (the webhook adds it when the pod is
 * created) and a template that opts out is exactly what Istio leaves alone, so from files there is
 * nothing Istio would report: IST0103 is not reported here.
 */
import { Messages } from '../messages.js';
import type { AnalysisContext, Analyzer } from './context.js';

const INJECTION_LABEL = 'istio-injection';
const REVISION_LABEL = 'istio.io/rev';
const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'namespaces not enabled for injection (IST0102) or with several injection labels (IST0123)',
  analyze(ctx) {
    for (const ns of ctx.of('Namespace')) {
      // Istio's constants.IstioSystemNamespace, literally (not the mesh's root namespace).
      if (ns.metadata.name === 'istio-system') continue;
      const labels = ns.metadata.labels ?? {};
      const injection = labels[INJECTION_LABEL];
      const hasInjection = injection !== undefined;
      const hasRevision = labels[REVISION_LABEL] !== undefined;

      const istioLabels: string[] = [];
      if (hasInjection) istioLabels.push(`${INJECTION_LABEL}=${injection}`);
      for (const key of [REVISION_LABEL, DATAPLANE_MODE_LABEL]) {
        // A namespace that disables sidecar injection may still name a revision or ambient mode.
        if (labels[key] !== undefined && (!hasInjection || injection === 'enabled')) istioLabels.push(`${key}=${labels[key]}`);
      }
      if (istioLabels.length > 1) ctx.report(ns, Messages.NamespaceMultipleInjectionLabels, [istioLabels], ['metadata', 'labels']);

      if (labels[DATAPLANE_MODE_LABEL] === 'ambient') continue;
      if ((injection ?? '') === '' && !hasRevision) {
        // With enableNamespacesByDefault Istio reports IST0148 (NamespaceInjectionEnabledByDefault)
        // instead; that message is not in Weft's catalog, so nothing is reported then.
        if (enableNamespacesByDefault(ctx)) continue;
        ctx.report(ns, Messages.NamespaceNotInjected, [ns.metadata.name, ns.metadata.name], ['metadata', 'name']);
      }
    }
  },
};

/**
 * Istio reads `sidecarInjectorWebhook.enableNamespacesByDefault` from the default revision's
 * injector ConfigMap; in files that ConfigMap is what an IstioOperator without a revision installs.
 */
function enableNamespacesByDefault(ctx: AnalysisContext): boolean {
  return ctx.of('IstioOperator').some((op) => {
    const revision = op.spec.revision ?? '';
    if (revision !== '' && revision !== 'default') return false;
    return op.spec.values?.sidecarInjectorWebhook?.enableNamespacesByDefault === true;
  });
}
