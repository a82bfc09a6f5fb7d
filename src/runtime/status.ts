/**
 * `weft status`: the runtime, each control plane revision and gateway with its ready pods, and
 * the URLs a user opens. The JSON shape is part of the contract (DESIGN.md): `ingress.http`,
 * `ingress.https`, `dashboard`, `tracing`, `network`.
 */
import type { Daemon } from './daemon.js';
import { runsControlPlane } from './pods/plan.js';

export interface RuntimeStatus {
  runtime: { pid: number; home: string; startedAt: string; pods: number };
  network: string;
  controlPlanes: { revision: string; deployment: string; namespace: string; replicas: number; ready: number }[];
  gateways: { name: string; namespace: string; role: string; replicas: number; ready: number }[];
  ingress: { http: string | null; https: string | null };
  loadBalancers: { service: string; servicePort: number; url: string }[];
  /** The dashboard's URL: the same control plane pod's (`weft control-plane --dashboard-port`). */
  dashboard: string | null;
  /** The trace store's Zipkin base URL: a ready control plane pod's (the default revision's first). */
  tracing: string | null;
}

export function statusOf(daemon: Daemon): RuntimeStatus {
  const pods = [...daemon.controller.pods.values()].filter((p) => p.phase !== 'Stopped');
  const byDeployment = (ns: string, name: string) => pods.filter((p) => p.namespace === ns && p.options.deployment === name);
  const controlPlanes: RuntimeStatus['controlPlanes'] = [];
  const gateways: RuntimeStatus['gateways'] = [];
  for (const r of daemon.store.all()) {
    if (r.kind !== 'Deployment') continue;
    const t = r.spec.template;
    const own = byDeployment(r.metadata.namespace, r.metadata.name);
    const counts = { replicas: r.spec.replicas, ready: own.filter((p) => p.ready).length };
    const cp = t.spec.containers.some(runsControlPlane);
    if (cp) {
      const rev = t.metadata?.labels?.['istio.io/rev'];
      controlPlanes.push({ revision: rev === undefined || rev === '' ? 'default' : rev, deployment: r.metadata.name, namespace: r.metadata.namespace, ...counts });
    } else if (t.spec.containers.some((c) => c.name === 'istio-proxy' && c.image === 'auto')) {
      const role = t.metadata?.labels?.istio === 'egressgateway' ? 'egress-gateway' : 'ingress-gateway';
      gateways.push({ name: r.metadata.name, namespace: r.metadata.namespace, role, ...counts });
    }
  }
  const tracer = pods
    .filter((p) => p.ready && p.network && (p.plan?.spec as { containers?: Parameters<typeof runsControlPlane>[0][] } | undefined)?.containers?.some(runsControlPlane))
    .sort((a, b) => revisionRank(a.plan?.labels) - revisionRank(b.plan?.labels) || (a.name < b.name ? -1 : 1))[0];
  const listeners = daemon.ingress.listeners();
  const url = (port: number, scheme: string) => {
    const l = listeners.find((x) => x.servicePort === port && x.service.endsWith('/istio-ingressgateway')) ?? listeners.find((x) => x.servicePort === port);
    return l ? `${scheme}://${l.address}:${l.port}` : null;
  };
  return {
    runtime: { pid: process.pid, home: daemon.home.root, startedAt: daemon.startedAt.toISOString(), pods: pods.length },
    network: daemon.network.mode,
    controlPlanes,
    gateways,
    ingress: { http: url(80, 'http'), https: url(443, 'https') },
    loadBalancers: listeners.map((l) => ({ service: l.service, servicePort: l.servicePort, url: `${l.servicePort === 443 ? 'https' : 'http'}://${l.address}:${l.port}` })),
    dashboard: tracer?.network ? `http://${tracer.network.ip}:${DASHBOARD_PORT}` : null,
    tracing: tracer?.network ? `http://${tracer.network.ip}:${ZIPKIN_PORT}` : null,
  };
}

/** The trace store's port in a control plane pod (`weft control-plane --zipkin-port` default). */
const ZIPKIN_PORT = 9411;
/** The dashboard's port in a control plane pod (`weft control-plane --dashboard-port` default). */
const DASHBOARD_PORT = 20001;

function revisionRank(labels: Record<string, string> | undefined): number {
  const rev = labels?.['istio.io/rev'];
  return rev === undefined || rev === 'default' ? 0 : 1;
}
