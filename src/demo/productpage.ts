/**
 * productpage: the front end (bookinfo's productpage v1). It renders the book with details and
 * reviews, keeps who signed in in a session cookie, and sends `end-user: <user>` on its calls, which
 * is what the request routing and fault injection tasks match on. Its client timeouts are bookinfo's,
 * on purpose: details 3 s; reviews 3 s with one retry (6 s in all), the "bug" the 7 s delay task
 * uncovers; an unavailable service becomes an error text on the page, never an error page.
 */
import type http from 'node:http';
import type { Logger } from '../lib/log.js';
import { forwardedHeaders } from './headers.js';
import {
  PRODUCT, STYLESHEET, DETAILS_UNAVAILABLE, REVIEWS_UNAVAILABLE, RATINGS_UNAVAILABLE_FOR_BOOK,
  renderIndex, renderProductPage,
} from './page.js';
import type { Review } from './reviews.js';
import { readBody, send, sendHtml, sendJson, sendText, type Handler } from './serve.js';
import type { Env, UpstreamService, Upstreams } from './upstream.js';

export interface ProductPageSettings {
  detailsTimeoutMs: number;
  reviewsTimeoutMs: number;
  /** Calls to reviews per page: bookinfo's loop of two. */
  reviewsAttempts: number;
  ratingsTimeoutMs: number;
}

/** Bookinfo's timeouts; `<SERVICE>_TIMEOUT_MS` lets tests shorten them. */
export function productPageSettings(env: Env): ProductPageSettings {
  const ms = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    detailsTimeoutMs: ms('DETAILS_TIMEOUT_MS', 3_000),
    reviewsTimeoutMs: ms('REVIEWS_TIMEOUT_MS', 3_000),
    reviewsAttempts: 2,
    ratingsTimeoutMs: ms('RATINGS_TIMEOUT_MS', 3_000),
  };
}

const SESSION_COOKIE = 'session';

interface Fetched {
  status: number;
  body: Record<string, unknown> | undefined;
}

export function productPageHandler(settings: ProductPageSettings, upstreams: Upstreams, log: Logger): Handler {
  async function call(service: UpstreamService, path: string, headers: http.OutgoingHttpHeaders, timeoutMs: number, attempts = 1): Promise<Fetched> {
    const url = `${upstreams.baseUrl(service)}${path}`;
    let status = 500;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const got = await upstreams.get(url, headers, timeoutMs);
        if (got.status === 200) return { status: 200, body: JSON.parse(got.body) as Record<string, unknown> };
        status = got.status || 500;
        log.warn(`${service} answered with an error`, { url, status, attempt });
      } catch (err) {
        status = 500;
        log.warn(`cannot reach ${service}`, { url, attempt, error: (err as Error).message });
      }
    }
    return { status, body: undefined };
  }

  const details = (id: number, h: http.OutgoingHttpHeaders) => call('details', `/details/${id}`, h, settings.detailsTimeoutMs);
  const reviews = (id: number, h: http.OutgoingHttpHeaders) => call('reviews', `/reviews/${id}`, h, settings.reviewsTimeoutMs, settings.reviewsAttempts);
  const ratings = (id: number, h: http.OutgoingHttpHeaders) => call('ratings', `/ratings/${id}`, h, settings.ratingsTimeoutMs);

  return async (req, res, url) => {
    const path = url.pathname;
    const user = sessionUser(req);
    const headers = outgoingHeaders(req, user);
    if (path === '/health') return sendText(res, 200, 'Product page is healthy');
    if (path === '/' || path === '/index.html') return sendHtml(res, 200, renderIndex());
    if (path === '/static/style.css') return send(res, 200, 'text/css; charset=utf-8', STYLESHEET);
    if (path === '/login') return req.method === 'POST' ? login(req, res) : sendText(res, 405, 'use POST');
    if (path === '/logout') return redirectBack(req, res, `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    if (path === '/productpage') {
      const [d, r] = await Promise.all([details(PRODUCT.id, headers), reviews(PRODUCT.id, headers)]);
      const page = renderProductPage({ user, details: d.body, reviews: r.body as { podname?: string; reviews: Review[] } | undefined });
      return sendHtml(res, 200, page);
    }
    if (path === '/api/v1/products') return sendJson(res, 200, [{ id: PRODUCT.id, title: PRODUCT.title, description: PRODUCT.summary }]);
    const api = /^\/api\/v1\/products\/(\d{1,9})(?:\/(reviews|ratings))?$/.exec(path);
    if (api) {
      const id = Number(api[1]);
      const [fetch, unavailable] = api[2] === 'reviews' ? [reviews, REVIEWS_UNAVAILABLE] : api[2] === 'ratings' ? [ratings, RATINGS_UNAVAILABLE_FOR_BOOK] : [details, DETAILS_UNAVAILABLE];
      const got = await fetch(id, headers);
      return sendJson(res, got.status, got.body ?? { error: unavailable });
    }
    sendText(res, 404, 'Not Found');
  };
}

/** The headers for calls to details and reviews: trace context from the request, the user from the session. */
function outgoingHeaders(req: http.IncomingMessage, user: string | undefined): http.OutgoingHttpHeaders {
  const headers = forwardedHeaders(req.headers);
  // Like bookinfo, only a signed-in user becomes `end-user`; a client cannot claim to be jason.
  delete headers['end-user'];
  if (user !== undefined) headers['end-user'] = user;
  return headers;
}

async function login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const body = await readBody(req, 16 * 1024);
  if (body === undefined) return sendText(res, 413, 'sign-in form too large');
  const form = new URLSearchParams(body);
  const user = (form.get('username') ?? form.get('user') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('username') ?? '').trim();
  if (user === '' || user.length > 256) return sendText(res, 400, 'Sign in needs a user name (form field "username").');
  const value = Buffer.from(JSON.stringify({ user })).toString('base64url');
  redirectBack(req, res, `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax`);
}

function sessionUser(req: http.IncomingMessage): string | undefined {
  const cookie = req.headers.cookie;
  if (!cookie) return undefined;
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    try {
      const parsed = JSON.parse(Buffer.from(part.slice(eq + 1).trim(), 'base64url').toString('utf8')) as { user?: unknown };
      if (typeof parsed.user === 'string' && parsed.user !== '') return parsed.user;
    } catch {
      // a cookie we did not write: treated as signed out
    }
  }
  return undefined;
}

/** Back to the page the form was on (only a path on this site), or the product page. */
function redirectBack(req: http.IncomingMessage, res: http.ServerResponse, setCookie: string): void {
  let location = '/productpage';
  const referer = req.headers.referer;
  if (referer) {
    try {
      const from = new URL(referer);
      if (from.pathname.startsWith('/') && !from.pathname.startsWith('//') && from.pathname !== '/login') location = `${from.pathname}${from.search}`;
    } catch {
      // not a URL: the default
    }
  }
  res.writeHead(302, { location, 'set-cookie': setCookie, 'content-length': 0 });
  res.end();
}
