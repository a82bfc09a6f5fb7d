/**
 * Istio's protocol selection (ISTIO-SEMANTICS §6): from a Kubernetes Service port's protocol,
 * appProtocol and name, or a ServiceEntry port's protocol. `Unsupported` means "sniff": the
 * proxy detects HTTP on the connection, so it counts as HTTP-capable.
 */
export type Protocol =
  | 'HTTP' | 'HTTP2' | 'HTTP_PROXY' | 'GRPC' | 'GRPC-Web'
  | 'HTTPS' | 'TLS' | 'TCP' | 'UDP' | 'Mongo' | 'Redis' | 'MySQL'
  | 'Unsupported';

const BY_NAME: Record<string, Protocol> = {
  http: 'HTTP', http2: 'HTTP2', http_proxy: 'HTTP_PROXY', grpc: 'GRPC', 'grpc-web': 'GRPC-Web',
  https: 'HTTPS', tls: 'TLS', tcp: 'TCP', udp: 'UDP', mongo: 'Mongo', redis: 'Redis', mysql: 'MySQL',
};

/** Istio's protocol.Parse: case-insensitive, unknown or empty is Unsupported. */
export function parseProtocol(text: string | undefined): Protocol {
  return BY_NAME[(text ?? '').toLowerCase()] ?? 'Unsupported';
}

// Istio's wellKnownPorts: without a protocol in the name these are TCP, never sniffed.
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

/** Istio's kube ConvertProtocol for a Service port. */
export function kubePortProtocol(port: { port: number; name?: string; protocol?: string; appProtocol?: string }): Protocol {
  if (port.protocol === 'UDP') return 'UDP';
  let name = port.name ?? '';
  if (port.appProtocol !== undefined) {
    // appProtocol replaces the name entirely, with Kubernetes' own standard values mapped.
    switch (port.appProtocol) {
      case 'kubernetes.io/h2c': return 'HTTP2';
      case 'kubernetes.io/ws': return 'HTTP';
      case 'kubernetes.io/wss': return 'HTTPS';
    }
    name = port.appProtocol;
  }
  // `grpc-web` contains the separator, so it is checked before the prefix split.
  if (name.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web';
  const dash = name.indexOf('-');
  const parsed = parseProtocol(dash >= 0 ? name.slice(0, dash) : name);
  if (parsed === 'Unsupported' && WELL_KNOWN_TCP_PORTS.has(port.port)) return 'TCP';
  return parsed;
}

/** HTTP-ish protocols get HTTP route tables; Unsupported is sniffed and also gets one. */
export function isHttp(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'HTTP_PROXY' || p === 'GRPC' || p === 'GRPC-Web';
}

/** HTTPS and TLS are routed on SNI with VirtualService `tls` routes. */
export function isTls(p: Protocol): boolean {
  return p === 'HTTPS' || p === 'TLS';
}

/** Upstream protocol of a cluster: HTTP/2 for h2 and gRPC, auto for sniffed ports. */
export function upstreamProtocol(p: Protocol): 'http1' | 'http2' | 'auto' | 'tcp' {
  if (p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-Web') return 'http2';
  if (p === 'HTTP' || p === 'HTTP_PROXY') return 'http1';
  if (p === 'Unsupported') return 'auto';
  return 'tcp';
}
