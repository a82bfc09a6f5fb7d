/**
 * Port of Istio's service.PortNameAnalyzer (analyzers/service/portname.go): a Service port whose
 * protocol Istio cannot tell from its appProtocol or name prefix gets IST0118 (the proxy falls
 * back to protocol sniffing); on an ExternalName Service, such a port or one named exactly `tcp`
 * gets IST0150 instead.
 */
import { Messages } from '../messages.js';
import type { Analyzer } from './context.js';

/** Istio's protocol.Parse names (lower case). */
const PROTOCOLS = new Set(['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql']);
/** Kubernetes' standard appProtocol values Istio maps to its own protocols. */
const KUBERNETES_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);
/** SMTP, DNS, MySQL, MongoDB: treated as TCP when the name says nothing (sniffing would break them). */
const WELL_KNOWN_PORTS = new Set([25, 53, 3306, 27017]);
/** Services the gateway controllers create; users do not name their ports. */
const MANAGED_GATEWAY_CONTROLLERS = new Set(['istio.io-gateway-controller', 'istio.io-mesh-controller', 'istio.io-eastwest-controller']);

export const servicePortNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Service port names follow the protocol naming convention (IST0118, IST0150)',
  analyze(ctx) {
    for (const svc of ctx.of('Service')) {
      const labels = svc.metadata.labels ?? {};
      // util.IsIstioControlPlane: Istio's own Services are named by its charts.
      if (labels.istio !== undefined || labels.release === 'istio') continue;
      if (MANAGED_GATEWAY_CONTROLLERS.has(labels['gateway.istio.io/managed'] ?? '')) continue;
      const externalName = svc.spec.type === 'ExternalName';
      (svc.spec.ports ?? []).forEach((port, i) => {
        const name = port.name ?? '';
        const unsupported = !hasKnownProtocol(port.port, name, port.protocol, port.appProtocol);
        if (!unsupported && !(name === 'tcp' && externalName)) return;
        const path = ['spec', 'ports', i, 'port'];
        if (externalName) ctx.report(svc, Messages.ExternalNameServiceTypeInvalidPortName, [], path);
        else ctx.report(svc, Messages.PortNameIsNotUnderNamingConvention, [name, port.port, String(port.targetPort)], path);
      });
    }
  },
};

/** Istio's kube.ConvertProtocol(...) !== Unsupported. */
function hasKnownProtocol(portNumber: number, name: string, protocol: string, appProtocol: string | undefined): boolean {
  if (protocol === 'UDP') return true;
  let value = name;
  if (appProtocol !== undefined) {
    if (KUBERNETES_APP_PROTOCOLS.has(appProtocol)) return true;
    value = appProtocol;
  }
  if (value.toLowerCase().startsWith('grpc-web')) return true;
  const dash = value.indexOf('-');
  const prefix = (dash >= 0 ? value.slice(0, dash) : value).toLowerCase();
  return PROTOCOLS.has(prefix) || WELL_KNOWN_PORTS.has(portNumber);
}
