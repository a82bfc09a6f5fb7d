/**
 * What pods on a `netns` network need to reach services by name: each Kubernetes Service's
 * names (`reviews`, `reviews.default`, `reviews.default.svc`, `reviews.default.svc.cluster.local`)
 * resolving to its VIP, the same deterministic VIP the compiler gives the proxies, and behind each
 * VIP port its ready endpoints (so pods without a sidecar reach services too, as with
 * kube-proxy). ServiceEntry hosts get Istio's auto-allocated address, as Istio's DNS proxy does.
 */
import type { AnyResource } from '../resources/index.js';
import { buildRegistry, instancesFromPods, meshOptionsFrom } from '../registry/index.js';
import type { HostName, VirtualService } from './network.js';

export function serviceAddresses(resources: readonly AnyResource[]): { hosts: HostName[]; services: VirtualService[] } {
  const mesh = meshOptionsFrom(resources);
  const registry = buildRegistry(resources, instancesFromPods(resources), mesh);
  const hosts: HostName[] = [];
  const services: VirtualService[] = [];
  for (const s of registry.services) {
    if (s.source.kind === 'Service' && s.vip) {
      hosts.push({ ip: s.vip, names: [s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, s.hostname] });
      services.push({
        name: `${s.name}.${s.namespace}`,
        vip: s.vip,
        ports: s.ports.map((p) => ({ port: p.port, endpoints: registry.endpoints(s, p.port).filter((e) => e.healthy).map((e) => ({ ip: e.address, port: e.port })) })),
      });
    } else if (s.autoAllocatedVip && !s.hostname.startsWith('*')) {
      hosts.push({ ip: s.autoAllocatedVip, names: [s.hostname] });
    }
  }
  return { hosts, services };
}
