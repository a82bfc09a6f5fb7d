/**
 * Port of Istio's gateway.IngressGatewayPortAnalyzer (analyzers/gateway/gateway.go). Istio reads
 * Pods; from files the gateway pods are the Deployments' pod templates, plus the gateway
 * Deployments and Services an install would create (meshIndex's implied workloads), which is how
 * `istioctl analyze` adds a default ingress gateway Pod and Service when reading files.
 */
import { Messages } from '../messages.js';
import type { FieldPath } from '../../lib/field-path.js';
import type { Analyzer } from './context.js';
import { formatLabels, labelsMatch, meshIndex, type MeshIndex, type MeshWorkload } from './mesh-index.js';

export const gatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: 'Gateway selectors match gateway workloads (IST0101) whose Service exposes the server ports (IST0162)',
  analyze(ctx) {
    const index = meshIndex(ctx);
    for (const gw of ctx.of('Gateway')) {
      const selector = gw.spec.selector ?? {};
      const selectorText = formatLabels(selector);
      // Gateway selectors are not limited to the Gateway's namespace.
      const pods = gatewayPods(index).filter((w) => labelsMatch(selector, w.labels));
      if (pods.length === 0) {
        ctx.report(gw, Messages.ReferencedResourceNotFound, ['selector', selectorText], selectorPath(selector));
        continue;
      }
      const exposed = exposedPorts(index, pods);
      (gw.spec.servers ?? []).forEach((server, i) => {
        if (exposed.has(server.port.number)) return;
        ctx.report(gw, Messages.GatewayPortNotDefinedOnService, [server.port.number, selectorText], ['spec', 'servers', i, 'port', 'number']);
      });
    }
  },
};

/** Deployments stand for Pods; WorkloadEntries are not pods and Istio's analyzer does not read them. */
function gatewayPods(index: MeshIndex): MeshWorkload[] {
  return index.workloads.filter((w) => w.kind === 'Deployment');
}

/**
 * The ports a Gateway server may listen on: every TCP port of a Kubernetes Service that selects
 * the pods, and its numeric targetPort (the port that reaches the pod), as Istio collects them.
 * A named targetPort counts as the port number itself (Istio's IntValue() is 0 for it).
 */
function exposedPorts(index: MeshIndex, pods: MeshWorkload[]): Set<number> {
  const out = new Set<number>();
  for (const pod of pods) {
    for (const svc of index.services) {
      const isKubeService = svc.implied || svc.resource?.kind === 'Service';
      if (!isKubeService || svc.namespace !== pod.namespace) continue;
      // A Service without a selector is Everything() to Istio's labels.SelectorFromSet, as here.
      if (!labelsMatch(svc.selector, pod.labels)) continue;
      for (const port of svc.ports) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        out.add(port.number);
        const target = typeof port.targetPort === 'number' ? port.targetPort : /^\d+$/.test(port.targetPort ?? '') ? Number(port.targetPort) : 0;
        if (target !== 0) out.add(target);
      }
    }
  }
  return out;
}

/** Istio points at the selector's first label (in sorted order). */
function selectorPath(selector: Readonly<Record<string, string>>): FieldPath {
  const first = Object.keys(selector).sort()[0];
  return first === undefined ? ['spec'] : ['spec', 'selector', first];
}
