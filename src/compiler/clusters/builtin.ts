/**
 * The clusters every proxy has (Istio's cluster_builder.go): PassthroughCluster for ALLOW_ANY
 * (forward to the original destination), BlackHoleCluster for REGISTRY_ONLY (no endpoints, so the
 * connection is closed), and for sidecars InboundPassthroughClusterIpv4 for inbound traffic to
 * ports no service declares.
 */
import type { Cluster } from '../../proxy-config/index.js';
import type { MeshOptions } from '../../registry/index.js';
import { circuitBreakers, tcpKeepalive } from './traffic-policy.js';
import { BLACKHOLE_CLUSTER, INBOUND_PASSTHROUGH_CLUSTER, PASSTHROUGH_CLUSTER } from './names.js';

export function builtinClusters(mesh: MeshOptions, sidecar: boolean): Cluster[] {
  const base = { connectTimeoutMs: mesh.connectTimeoutMs, circuitBreakers: circuitBreakers(undefined) };
  // Istio applies the (empty) connection pool, so the mesh's tcpKeepalive, to the passthrough clusters only.
  const passthrough = { ...base, ...tcpKeepalive(undefined, mesh) };
  const out: Cluster[] = [
    { name: PASSTHROUGH_CLUSTER, discovery: 'original-dst', protocol: 'auto', loadBalancer: { policy: 'PASSTHROUGH' }, ...passthrough },
    { name: BLACKHOLE_CLUSTER, discovery: 'static', protocol: 'tcp', loadBalancer: { policy: 'ROUND_ROBIN' }, ...base },
  ];
  if (sidecar) out.push({ name: INBOUND_PASSTHROUGH_CLUSTER, discovery: 'original-dst', protocol: 'auto', loadBalancer: { policy: 'PASSTHROUGH' }, ...passthrough });
  return out;
}
