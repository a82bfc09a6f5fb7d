/**
 * Endpoints of one cluster (Istio's EDS ClusterLoadAssignment), in a fixed order. A cluster whose
 * TLS is decided by auto mTLS keeps each endpoint's tlsMode; one the DestinationRule sets to
 * plaintext (or a mesh without auto mTLS) marks every endpoint `disabled`, so the proxy never
 * upgrades it.
 */
import type { ClusterLoadAssignment, Endpoint } from '../../proxy-config/index.js';
import type { ServiceEndpoint } from '../../registry/index.js';
import type { EndpointTls } from '../clusters/tls.js';

export function loadAssignment(cluster: string, endpoints: readonly ServiceEndpoint[], tls: EndpointTls): ClusterLoadAssignment {
  const out: Endpoint[] = endpoints.map((e) => ({
    address: e.address,
    port: e.port,
    weight: e.weight,
    labels: { ...e.labels },
    ...(e.workload ? { workload: { ...e.workload } } : {}),
    tlsMode: tls === 'plaintext' ? 'disabled' : e.tlsMode,
    healthy: e.healthy,
  }));
  out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  return { cluster, endpoints: out };
}
