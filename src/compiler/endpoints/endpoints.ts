/**
 * Endpoints of one cluster (Istio's EDS ClusterLoadAssignment), in a fixed order. A cluster whose
 * TLS is decided by auto mTLS keeps each endpoint's tlsMode; one the DestinationRule sets to
 * plaintext (or a mesh without auto mTLS) marks every endpoint `disabled`, so the proxy never
 * upgrades it. With locality load balancing on, each endpoint also gets its priority and locality
 * weight relative to the proxy (locality.ts).
 */
import type { ClusterLoadAssignment, Endpoint } from '../../proxy-config/index.js';
import type { ServiceEndpoint } from '../../registry/index.js';
import type { EndpointTls } from '../clusters/tls.js';
import { applyLocalityLb, type LocalityContext } from './locality.js';

export function loadAssignment(cluster: string, endpoints: readonly ServiceEndpoint[], tls: EndpointTls, locality?: LocalityContext): ClusterLoadAssignment {
  const out: Endpoint[] = endpoints.map((e) => ({
    address: e.address,
    port: e.port,
    weight: e.weight,
    labels: { ...e.labels },
    ...(e.workload ? { workload: { ...e.workload } } : {}),
    tlsMode: tls === 'plaintext' ? 'disabled' : e.tlsMode,
    healthy: e.healthy,
    ...(e.locality ? { locality: e.locality } : {}),
  }));
  out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  return { cluster, endpoints: locality ? applyLocalityLb(out, locality) : out };
}
