/**
 * Port of Istio's deployment.ApplicationUIDAnalyzer (analyzers/deployment/pod.go): UID 1337 is the
 * sidecar's, whose traffic the iptables rules exempt from capture, so an application running as
 * 1337 would bypass the proxy. Istio checks Pods and Deployments; from files only Deployments
 * exist. Like Istio, the pod's securityContext and each container's are reported separately, and
 * init containers are not checked.
 */
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

const PROXY_UID = 1337;
/** Containers allowed to run as the proxy's UID. */
const ISTIO_CONTAINERS = new Set(['istio-proxy', 'istio-operator']);

export const applicationUidAnalyzer: Analyzer = {
  name: 'deployment.ApplicationUIDAnalyzer',
  description: 'application containers must not run as UID 1337 (IST0144)',
  analyze(ctx) {
    for (const d of ctx.of('Deployment')) {
      const labels = d.metadata.labels ?? {};
      // util.IsIstioControlPlane: Istio's own Deployments may use the proxy's UID.
      if (labels.istio !== undefined || labels.release === 'istio') continue;
      const pod = d.spec.template.spec;
      const podPath = ['spec', 'template', 'spec'];
      if (runAsUser(pod.securityContext) === PROXY_UID) {
        ctx.report(d, Messages.InvalidApplicationUID, [], [...podPath, 'securityContext', 'runAsUser']);
      }
      pod.containers.forEach((c, i) => {
        if (ISTIO_CONTAINERS.has(c.name) || runAsUser(c.securityContext) !== PROXY_UID) return;
        ctx.report(d, Messages.InvalidApplicationUID, [], [...podPath, 'containers', i, 'securityContext', 'runAsUser']);
      });
    }
  },
};

/** securityContext is kept as written (a loose object), so its runAsUser may be anything. */
function runAsUser(securityContext: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const value = securityContext?.runAsUser;
  return typeof value === 'number' ? value : undefined;
}
