/** The identity of the proxy serving a workload instance: sidecar, or gateway by the pod's `istio` label. */
import type { ProxyNode, ProxyRole } from '../proxy-config/index.js';
import type { WorkloadInstance } from '../registry/index.js';

export function proxyRoleOf(instance: WorkloadInstance): ProxyRole {
  const kind = instance.labels.istio;
  if (kind === 'ingressgateway') return 'ingress-gateway';
  if (kind === 'egressgateway') return 'egress-gateway';
  return 'sidecar';
}

export function proxyNodeFor(instance: WorkloadInstance, revision = ''): ProxyNode {
  return {
    id: `${instance.name}.${instance.namespace}`,
    role: proxyRoleOf(instance),
    namespace: instance.namespace,
    workload: instance.workload,
    labels: { ...instance.labels },
    serviceAccount: instance.serviceAccount,
    ip: instance.ip,
    revision,
    ...(instance.locality ? { locality: instance.locality } : {}),
  };
}
