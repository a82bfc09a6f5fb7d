/**
 * How a demo service calls another: `http://<service>:9080/...`, as a bookinfo pod does. In the
 * local runtime's plain network mode the sidecar is the app's HTTP proxy (`HTTP_PROXY`), and
 * node:http does not honour that variable, so requests are sent to the proxy in absolute-URI form
 * (`GET http://reviews:9080/reviews/0`), the way curl and Python's requests do. Without a proxy
 * the name is resolved and connected to directly (netns mode: /etc/hosts and captured by iptables).
 * Tests point services at loopback ports with `<SERVICE>_URL`.
 */
import http from 'node:http';

export type UpstreamService = 'details' | 'reviews' | 'ratings';

export interface UpstreamResponse {
  status: number;
  body: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Bodies larger than this are refused: the demo's own answers are a few hundred bytes. */
const MAX_BODY_BYTES = 1 << 20;

export class Upstreams {
  readonly #env: Env;
  readonly #proxy: URL | undefined;
  readonly #noProxy: string[];
  // One keep-alive pool per process: the proxy (or each service) is reused across page loads.
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(env: Env) {
    this.#env = env;
    const proxy = env.HTTP_PROXY ?? env.http_proxy;
    this.#proxy = proxy ? parseProxy(proxy) : undefined;
    this.#noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  }

  /** `http://<service>[.<SERVICES_DOMAIN>]:9080`, or the `<SERVICE>_URL` override. */
  baseUrl(service: UpstreamService): string {
    const override = this.#env[`${service.toUpperCase()}_URL`];
    if (override) return override.replace(/\/+$/, '');
    const domain = this.#env.SERVICES_DOMAIN ? `.${this.#env.SERVICES_DOMAIN}` : '';
    return `http://${service}${domain}:9080`;
  }

  /** The proxy a request to `target` goes through, if any (HTTP_PROXY minus NO_PROXY). */
  proxyFor(target: URL): URL | undefined {
    if (!this.#proxy) return undefined;
    const host = target.hostname.toLowerCase();
    const bypass = this.#noProxy.some((entry) => {
      if (entry === '*') return true;
      const name = entry.replace(/:\d+$/, '').replace(/^\*?\./, '');
      return host === name || host.endsWith(`.${name}`);
    });
    return bypass ? undefined : this.#proxy;
  }

  /**
   * GET `url` with `headers`; the whole exchange (connect, headers, body) must finish within
   * `timeoutMs`, as the timeouts of bookinfo's clients do. Rejects on timeout or a network error.
   */
  get(url: string, headers: http.OutgoingHttpHeaders, timeoutMs: number): Promise<UpstreamResponse> {
    const deadline = Date.now() + timeoutMs;
    return this.#once(url, headers, timeoutMs).catch((err: Error & { reusedSocket?: boolean }) => {
      // A pooled connection the other side had just closed: the request never reached anyone, so
      // sending it again on a fresh connection is safe (Node's documented pattern for keep-alive).
      if (!err.reusedSocket || Date.now() >= deadline) throw err;
      return this.#once(url, headers, deadline - Date.now());
    });
  }

  #once(url: string, headers: http.OutgoingHttpHeaders, timeoutMs: number): Promise<UpstreamResponse> {
    const target = new URL(url);
    const proxy = this.proxyFor(target);
    const options: http.RequestOptions = proxy
      ? { host: proxy.hostname, port: proxy.port || 80, path: target.href, headers: { ...headers, host: target.host } }
      : { host: target.hostname, port: target.port || 80, path: `${target.pathname}${target.search}`, headers };
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const req = http.request({ ...options, method: 'GET', agent: this.#agent });
      let responded = false;
      const timer = setTimeout(() => req.destroy(new Error(`no complete response from ${url} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        const code = (err as NodeJS.ErrnoException).code;
        const stale = !responded && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
        reject(Object.assign(err, { reusedSocket: stale }));
      };
      req.once('error', fail);
      req.once('response', (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error(`response from ${url} is larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.once('error', fail);
        res.once('close', () => {
          if (!res.complete) fail(new Error(`connection to ${url} closed before the response was complete`));
        });
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function parseProxy(value: string): URL {
  // curl and requests accept a bare host:port; so does the runtime's env.
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  if (url.protocol !== 'http:') throw new Error(`HTTP_PROXY ${value}: only http:// proxies are supported`);
  return url;
}
