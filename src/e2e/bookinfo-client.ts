/**
 * A browser's view of the demo's product page for the seed's end-to-end test: requests through
 * the ingress gateway (any method, a cookie kept between them, the time each took) and what a
 * reader sees on the page (which reviews version answered, the colour of its stars, the error
 * texts of bookinfo's fault injection tasks).
 */
import http from 'node:http';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** From sending the request to the last byte of the answer. */
  elapsedMs: number;
}

/** One request on a fresh connection (nothing pooled between steps). */
export function send(url: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; timeoutMs?: number } = {}): Promise<Answer> {
  const target = new URL(url);
  const started = performance.now();
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request({
      host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: options.method ?? 'GET',
      headers: options.headers, agent: false, timeout: options.timeoutMs ?? 20_000,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, elapsedMs: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Signs in through the product page's form as bookinfo does (POST /login) and returns the session cookie. */
export async function signIn(base: string, user: string): Promise<string> {
  const r = await send(`${base}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, passwd: user }).toString(),
  });
  if (r.status !== 302) throw new Error(`POST /login answered ${r.status}: ${r.body.slice(0, 200)}`);
  const cookie = r.headers['set-cookie']?.[0]?.split(';')[0];
  if (!cookie) throw new Error('POST /login set no cookie');
  return cookie;
}

export interface ProductPage extends Answer {
  /** The reviews pod that answered (`reviews-v2-...`), undefined when reviews was unavailable. */
  servedBy: string | undefined;
  /** The reviews version from the pod name: v1, v2, v3. */
  version: string | undefined;
  /** One entry per review that has stars: black (v2) or red (v3); empty for v1. */
  starColors: string[];
  signedInAs: string | undefined;
}

export async function productPage(base: string, cookie?: string, timeoutMs?: number): Promise<ProductPage> {
  const r = await send(`${base}/productpage`, { headers: cookie ? { cookie } : {}, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  const servedBy = /Reviews served by: <span id="served-by">([^<]+)<\/span>/.exec(r.body)?.[1];
  return {
    ...r,
    servedBy,
    version: servedBy ? /^reviews-(v\d)-/.exec(servedBy)?.[1] : undefined,
    starColors: [...r.body.matchAll(/class="stars" style="color: (\w+)"/g)].map((m) => m[1] ?? ''),
    signedInAs: /Signed in as <b>([^<]+)<\/b>/.exec(r.body)?.[1],
  };
}

/** Runs `total` calls of `one`, `parallel` at a time, and returns their results in order. */
export async function inBatches<T>(total: number, parallel: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(total);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) out[i] = await one(i);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, total) }, worker));
  return out;
}
