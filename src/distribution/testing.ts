/**
 * Test kit for distribution tests: a fake clock, a tiny mutable "world" the compile callback
 * reads, and builders that start servers and clients on loopback and close them all afterwards.
 * Not a test file itself (the runner only picks up *.test.js).
 */
import type { ProxyConfig, ProxyNode } from '../proxy-config/index.js';
import { DiscoveryClient, type ApplyResult, type DiscoveryClientOptions } from './client.js';
import type { CancelTimer, SetTimer } from './clock.js';
import { PushServer, type PushServerOptions } from './server.js';

interface FakeTimer {
  at: number;
  ms: number;
  fn: () => void;
  done: boolean;
}

/** Time that moves only when a test says so; timers fire in order as it passes. */
export class FakeClock {
  #t = 1_700_000_000_000;
  #timers: FakeTimer[] = [];

  now = (): number => this.#t;

  setTimer: SetTimer = (fn, ms): CancelTimer => {
    const timer = { at: this.#t + ms, ms, fn, done: false };
    this.#timers.push(timer);
    return () => {
      timer.done = true;
    };
  };

  /** Delays (as requested) of the timers still waiting. */
  pending(): number[] {
    return this.#timers.filter((t) => !t.done).map((t) => t.ms);
  }

  advance(ms: number): void {
    const end = this.#t + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.done && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#t = due.at;
      due.done = true;
      due.fn();
    }
    this.#t = end;
    this.#timers = this.#timers.filter((t) => !t.done);
  }
}

/** Polls a condition on real time: for socket I/O, which takes milliseconds, not for waiting out timers. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function node(id: string, labels: Record<string, string> = {}): ProxyNode {
  const [pod = id, namespace = 'default'] = id.split('.');
  return { id, role: 'sidecar', namespace, workload: pod, labels, serviceAccount: 'default', ip: '10.0.0.1', revision: '' };
}

/**
 * What the compile callback reads: a generation per node (bump it to change that node's config),
 * a trust domain (set it to 'bad' to make every proxy reject), and a record of compile calls.
 */
export class World {
  readonly generations = new Map<string, number>();
  trustDomain = 'cluster.local';
  failCompile = false;
  readonly compiled: string[] = [];

  bump(...ids: string[]): void {
    for (const id of ids) this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
  }

  compile = (proxy: ProxyNode): ProxyConfig => {
    this.compiled.push(proxy.id);
    if (this.failCompile) throw new Error('compile failed: VirtualService default/reviews has no route');
    const generation = this.generations.get(proxy.id) ?? 0;
    return {
      version: 'ignored-by-server',
      node: proxy,
      listeners: [],
      routes: [],
      clusters: [],
      endpoints: [{ cluster: `outbound|9080||reviews.default.svc.cluster.local`, endpoints: [{ address: `10.1.0.${generation % 250}`, port: 9080, weight: 1, labels: {}, tlsMode: 'istio', healthy: true }] }],
      secrets: [],
      mesh: { trustDomain: this.trustDomain, pathNormalization: 'BASE', outboundTrafficPolicy: 'ALLOW_ANY' },
    };
  };
}

/** The proxy side of a test: applies what it is sent, rejecting trust domain 'bad', and records events. */
export function applyRecorder(): { apply: (config: ProxyConfig) => ApplyResult; applied: string[] } {
  const applied: string[] = [];
  return {
    applied,
    apply: (config) => {
      if (config.mesh.trustDomain === 'bad') return { ok: false, error: 'mesh.trustDomain: "bad" is not a valid trust domain' };
      applied.push(config.version);
      return { ok: true };
    },
  };
}

export const GOOD_TOKEN = 'token-for-tests';

/** Starts servers and clients and remembers them, so `closeAll` in `after()` leaves no socket open. */
export class Harness {
  /** Separate clocks, so a test can cross the server's debounce without firing the client's retries. */
  readonly serverClock = new FakeClock();
  readonly clientClock = new FakeClock();
  readonly servers: PushServer[] = [];
  readonly clients: DiscoveryClient[] = [];

  async server(world: World, options: Partial<PushServerOptions> = {}, port = 0): Promise<{ server: PushServer; url: string }> {
    const server = new PushServer({
      compile: world.compile,
      authenticate: (token) => token === GOOD_TOKEN,
      replicaId: `istiod-${this.servers.length}`,
      now: this.serverClock.now,
      setTimer: this.serverClock.setTimer,
      ...options,
    });
    this.servers.push(server);
    const bound = await server.listen(port, '127.0.0.1');
    return { server, url: `http://127.0.0.1:${bound}` };
  }

  client(servers: string[], id: string, options: Partial<DiscoveryClientOptions> = {}): { client: DiscoveryClient; applied: string[]; events: string[] } {
    const recorder = applyRecorder();
    const client = new DiscoveryClient({
      servers,
      node: node(id),
      token: GOOD_TOKEN,
      apply: recorder.apply,
      backoff: { initialMs: 100, maxMs: 1600 },
      now: this.clientClock.now,
      setTimer: this.clientClock.setTimer,
      random: () => 0,
      ...options,
    });
    const events: string[] = [];
    client.on('connected', (replica) => events.push(`connected ${replica}`));
    client.on('disconnected', (reason, retryInMs) => events.push(`disconnected ${reason} retry ${retryInMs ?? '-'}`));
    client.on('applied', (version) => events.push(`applied ${version}`));
    client.on('rejected', (version, error) => events.push(`rejected ${version} ${error}`));
    this.clients.push(client);
    client.start();
    return { client, applied: recorder.applied, events };
  }

  async closeAll(): Promise<void> {
    for (const client of this.clients) client.stop();
    await Promise.all(this.servers.map((s) => s.close()));
  }
}
