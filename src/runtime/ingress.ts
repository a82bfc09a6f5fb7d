/**
 * Services of type LoadBalancer (the ingress gateway's) on the host, as a cloud load balancer
 * would expose them: the daemon listens on the host address and forwards each TCP connection to
 * a ready pod behind the Service, round-robin (forward.ts: a pod that refuses or drops the
 * connection before answering is skipped and the next one tried, so killing one gateway replica
 * does not interrupt service). Port 80 and 443 are served on unprivileged host ports (8080 and
 * 8443 by default, per WEFT_HOME settings).
 */
import type { ResourceOf } from '../resources/index.js';
import type { Logger } from '../lib/log.js';
import { TcpForwarder, type Backend } from './forward.js';

export type { Backend };

export interface IngressSettings {
  host: string;
  /** Service port -> host port (0 picks a free one, kept while the daemon runs). */
  ports: Record<string, number>;
}

interface Forwarder {
  key: string;
  forwarder: TcpForwarder;
  hostPort: number;
  servicePort: number;
  service: string;
}

export class IngressForwarder {
  readonly #settings: IngressSettings;
  readonly #log: Logger;
  readonly #backends: (svc: ResourceOf<'Service'>, port: number) => Backend[];
  readonly #forwarders = new Map<string, Forwarder>();
  readonly #services = new Map<string, ResourceOf<'Service'>>();
  /** Ports picked for `0`, reused when a Service comes back. */
  readonly #picked = new Map<number, number>();

  constructor(settings: IngressSettings, log: Logger, backends: (svc: ResourceOf<'Service'>, port: number) => Backend[]) {
    this.#settings = settings;
    this.#log = log;
    this.#backends = backends;
  }

  #syncing: Promise<void> = Promise.resolve();

  /** Follows the LoadBalancer Services in the store: opens and closes host listeners (one sync at a time). */
  sync(services: readonly ResourceOf<'Service'>[]): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync(services));
    return this.#syncing;
  }

  async #sync(services: readonly ResourceOf<'Service'>[]): Promise<void> {
    const wanted = new Map<string, { svc: ResourceOf<'Service'>; port: number; hostPort: number }>();
    for (const svc of services) {
      if (svc.spec.type !== 'LoadBalancer') continue;
      for (const p of svc.spec.ports ?? []) {
        const hostPort = this.#settings.ports[String(p.port)];
        if (hostPort === undefined || p.protocol !== 'TCP') continue;
        const key = `${svc.metadata.namespace}/${svc.metadata.name}:${p.port}`;
        // Two Services cannot share a host port: the first (by name) keeps it.
        if ([...wanted.values()].some((w) => w.hostPort === hostPort && hostPort !== 0)) continue;
        wanted.set(key, { svc, port: p.port, hostPort });
      }
    }
    for (const [key, f] of this.#forwarders) {
      if (!wanted.has(key)) {
        f.forwarder.close();
        this.#forwarders.delete(key);
      }
    }
    for (const [key, w] of wanted) {
      this.#services.set(key, w.svc);
      if (this.#forwarders.has(key)) continue;
      const forwarder = new TcpForwarder(() => {
        const svc = this.#services.get(key);
        return svc ? this.#backends(svc, w.port) : [];
      });
      const port = w.hostPort === 0 ? this.#picked.get(w.port) ?? 0 : w.hostPort;
      let bound: number;
      try {
        bound = await forwarder.listen(port, this.#settings.host);
      } catch (err) {
        this.#log.error('cannot listen for a LoadBalancer Service', { service: key, port, error: (err as Error).message });
        continue;
      }
      const f: Forwarder = { key, forwarder, hostPort: bound, servicePort: w.port, service: key };
      if (w.hostPort === 0) this.#picked.set(w.port, bound);
      this.#forwarders.set(key, f);
      this.#log.info('LoadBalancer listening', { service: key, address: `${this.#settings.host}:${f.hostPort}` });
    }
  }

  /** Host address of each exposed service port: `istio-system/istio-ingressgateway:80` -> `127.0.0.1:8080`. */
  listeners(): { service: string; servicePort: number; address: string; port: number }[] {
    return [...this.#forwarders.values()].map((f) => ({ service: f.service.split(':')[0] ?? '', servicePort: f.servicePort, address: this.#settings.host, port: f.hostPort }));
  }

  close(): void {
    for (const f of this.#forwarders.values()) f.forwarder.close();
    this.#forwarders.clear();
  }
}
